-- Issue 18: notices to the participant when their rewards change. One row per announced ledger row
-- (kinds credit, reversal, payout), keyed by the ledger row's id: Settlement's sweeper inserts it and
-- publishes a RewardChanged; the notifier claims it (status pending → sending) before it sends, so a
-- redelivered event never sends twice. Retries are scheduled here (next_attempt_at), not in the stream.
CREATE TABLE reward_notices (
    ledger_id         BIGINT       PRIMARY KEY,
    user_id           BIGINT       NOT NULL,
    kind              VARCHAR(24)  NOT NULL,
    amount_fen        BIGINT       NOT NULL,
    campaign_id       BIGINT       NULL,
    ledger_created_at DATETIME(3)  NOT NULL,
    -- pending | sending | sent | skipped | failed
    status            VARCHAR(16)  NOT NULL DEFAULT 'pending',
    -- wechat | sms | none, once decided
    channel           VARCHAR(16)  NULL,
    attempts          INT          NOT NULL DEFAULT 0,
    next_attempt_at   DATETIME(3)  NULL,
    claimed_until     DATETIME(3)  NULL,
    last_error        VARCHAR(500) NULL,
    published_at      DATETIME(3)  NULL,
    sent_at           DATETIME(3)  NULL,
    created_at        DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at        DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    INDEX idx_reward_notices_status (status, next_attempt_at),
    INDEX idx_reward_notices_unpublished (published_at),
    INDEX idx_reward_notices_user (user_id, ledger_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Ledger rows up to here were written before notices existed: nobody is told about them.
CREATE TABLE reward_notice_start (
    id        TINYINT PRIMARY KEY,
    ledger_id BIGINT  NOT NULL
) ENGINE=InnoDB;
INSERT INTO reward_notice_start (id, ledger_id) SELECT 1, COALESCE(MAX(id), 0) FROM reward_ledger;

-- One WeChat subscribe-notice consent (一次性订阅: one accept allows one message), recorded when the
-- H5 page's wx-open-subscribe reported "accept" in a verified WeChat session. ledger_id is set when a
-- notice uses it (kept through that notice's retries).
CREATE TABLE notice_subscriptions (
    id             BIGINT       PRIMARY KEY AUTO_INCREMENT,
    participant_id BIGINT       NOT NULL,
    openid         VARCHAR(64)  NOT NULL,
    template_id    VARCHAR(128) NOT NULL,
    accepted_at    DATETIME(3)  NOT NULL,
    ledger_id      BIGINT       NULL,
    used_at        DATETIME(3)  NULL,
    UNIQUE KEY uk_notice_subscriptions_ledger (ledger_id),
    INDEX idx_notice_subscriptions_open (participant_id, template_id, ledger_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A campaign may tell its referrers by SMS when they have no WeChat subscription (default off: SMS costs money).
ALTER TABLE campaigns ADD COLUMN notice_sms TINYINT(1) NOT NULL DEFAULT 0;
