-- Refunds (issue 4): the client call and the verified refund notify, one row per out_refund_no.
-- Reversing the reward comes with its own issue.
CREATE TABLE refunds (
    id            BIGINT PRIMARY KEY AUTO_INCREMENT,
    order_id      BIGINT       NOT NULL,
    payment_id    BIGINT       NOT NULL,
    out_trade_no  VARCHAR(32)  NOT NULL,
    out_refund_no VARCHAR(64)  NOT NULL,
    refund_id     VARCHAR(64)  NULL,
    amount_fen    BIGINT       NOT NULL,
    total_fen     BIGINT       NOT NULL,
    -- created (row written) → processing (WeChat accepted) → success | abnormal | closed (from the notify)
    status        VARCHAR(20)  NOT NULL DEFAULT 'created',
    reason        VARCHAR(80)  NULL,
    requested_by  BIGINT       NULL,
    success_time  DATETIME(3)  NULL,
    notified_at   DATETIME(3)  NULL,
    last_error    TEXT         NULL,
    created_at    DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at    DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    UNIQUE KEY uk_refunds_out_refund_no (out_refund_no),
    INDEX idx_refunds_order (order_id),
    INDEX idx_refunds_status (status, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
