-- Issue 18: withdrawals. A request holds its amount (available → withdrawing) in the same transaction
-- as its row; every later state change writes its ledger row (release or payout) in one transaction.
-- open_user_id is the user's id while the request is open (pending, approved, transferring) and NULL
-- once it is final: the unique key lets a participant have one open request, whatever the race.
CREATE TABLE withdrawals (
    id               BIGINT PRIMARY KEY AUTO_INCREMENT,
    user_id          BIGINT        NOT NULL,
    amount_fen       BIGINT        NOT NULL,
    status           VARCHAR(16)   NOT NULL,
    mode             VARCHAR(8)    NOT NULL,
    open_user_id     BIGINT        NULL,
    openid           VARCHAR(128)  NULL,
    beijing_day      DATE          NOT NULL,
    created_at       DATETIME(3)   NOT NULL,
    reviewed_by      VARCHAR(64)   NULL,
    reviewed_at      DATETIME(3)   NULL,
    reject_reason    VARCHAR(200)  NULL,
    paid_reference   VARCHAR(100)  NULL,
    paid_at          DATETIME(3)   NULL,
    paid_by          VARCHAR(64)   NULL,
    out_bill_no      VARCHAR(32)   NULL,
    transfer_bill_no VARCHAR(64)   NULL,
    transfer_state   VARCHAR(24)   NULL,
    package_info     VARCHAR(2048) NULL,
    bill_created_at  DATETIME(3)   NULL,
    last_queried_at  DATETIME(3)   NULL,
    fail_reason      VARCHAR(200)  NULL,
    updated_at       DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    UNIQUE KEY uk_withdrawals_open_user (open_user_id),
    UNIQUE KEY uk_withdrawals_out_bill_no (out_bill_no),
    INDEX idx_withdrawals_user (user_id, id),
    INDEX idx_withdrawals_user_day (user_id, beijing_day),
    INDEX idx_withdrawals_status (status, created_at),
    INDEX idx_withdrawals_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
