-- Check-in (核销) of paid registrations on site (issue 20). One row per check-in; an undo keeps the
-- row (who, when, why) and a later check-in adds a new one. `active` is 1 until undone and NULL
-- after, so the unique key allows one active check-in per order and any number of undone ones.
CREATE TABLE check_ins (
    id            BIGINT PRIMARY KEY AUTO_INCREMENT,
    order_id      BIGINT       NOT NULL,
    campaign_id   BIGINT       NOT NULL,
    checked_in_by BIGINT       NOT NULL,
    checked_in_at DATETIME(3)  NOT NULL,
    method        VARCHAR(8)   NOT NULL,
    undone_by     BIGINT       NULL,
    undone_at     DATETIME(3)  NULL,
    undo_reason   VARCHAR(200) NULL,
    active        TINYINT GENERATED ALWAYS AS (IF(undone_at IS NULL, 1, NULL)) STORED,
    UNIQUE KEY uk_check_ins_order_active (order_id, active),
    INDEX idx_check_ins_campaign (campaign_id, checked_in_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
