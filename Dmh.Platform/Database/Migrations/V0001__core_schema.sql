-- Core schema: the proposal's four tables plus what the pipeline needs.
-- Runs on MariaDB 10.11 and MySQL 8.0. Times are UTC DATETIME(3); money is DECIMAL yuan.
-- Migration ranges: 0001-0099 foundation, 0100 campaigns/orders, 0200 payments, 0300 settlement, 0400 sync.

CREATE TABLE admin_users (
    id            BIGINT PRIMARY KEY AUTO_INCREMENT,
    username      VARCHAR(64)  NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    role          VARCHAR(16)  NOT NULL,
    created_at    DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at    DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    disabled_at   DATETIME(3)  NULL,
    UNIQUE KEY uk_admin_users_username (username)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per person (by phone), across campaigns. u_id in links is referral_code, never id.
CREATE TABLE participants (
    id            BIGINT PRIMARY KEY AUTO_INCREMENT,
    phone         VARCHAR(20)  NOT NULL,
    openid        VARCHAR(64)  NULL,
    referral_code VARCHAR(16)  NOT NULL,
    created_at    DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at    DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    UNIQUE KEY uk_participants_phone (phone),
    UNIQUE KEY uk_participants_openid (openid),
    UNIQUE KEY uk_participants_referral_code (referral_code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE campaigns (
    id               BIGINT PRIMARY KEY AUTO_INCREMENT,
    name             VARCHAR(200)  NOT NULL,
    description      TEXT          NULL,
    cover_url        VARCHAR(500)  NULL,
    form_fields      JSON          NULL,
    price            DECIMAL(10,2) NOT NULL DEFAULT 0.00,
    -- 'fixed': reward_rule is the amount in yuan; 'percentage': reward_bps basis points of the price.
    reward_type      VARCHAR(16)   NOT NULL DEFAULT 'fixed',
    reward_rule      DECIMAL(10,2) NOT NULL DEFAULT 0.00,
    reward_bps       INT           NOT NULL DEFAULT 0,
    payment_settings JSON          NULL,
    require_sms      TINYINT(1)    NOT NULL DEFAULT 0,
    start_time       DATETIME(3)   NULL,
    end_time         DATETIME(3)   NULL,
    status           VARCHAR(20)   NOT NULL DEFAULT 'draft',
    created_by       BIGINT        NULL,
    created_at       DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at       DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    deleted_at       DATETIME(3)   NULL,
    INDEX idx_campaigns_status (status),
    INDEX idx_campaigns_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The proposal's UNIQUE (campaign_id, phone, deleted_at) lets duplicates through: NULLs are distinct
-- in a unique index. `live` is 1 for live rows and NULL once soft-deleted, so the key holds for live
-- rows only and soft-deleted history can repeat.
CREATE TABLE orders (
    id                BIGINT PRIMARY KEY AUTO_INCREMENT,
    campaign_id       BIGINT        NOT NULL,
    participant_id    BIGINT        NOT NULL DEFAULT 0,
    phone             VARCHAR(20)   NOT NULL,
    form_data         JSON          NULL,
    channel_id        VARCHAR(64)   NULL,
    referrer_id       BIGINT        NOT NULL DEFAULT 0,
    status            VARCHAR(20)   NOT NULL DEFAULT 'pending',
    amount            DECIMAL(10,2) NOT NULL DEFAULT 0.00,
    pay_status        VARCHAR(20)   NOT NULL DEFAULT 'unpaid',
    trade_no          VARCHAR(64)   NULL,
    paid_at           DATETIME(3)   NULL,
    registration_code VARCHAR(16)   NULL,
    sync_status       VARCHAR(20)   NOT NULL DEFAULT 'none',
    created_at        DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at        DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    deleted_at        DATETIME(3)   NULL,
    live              TINYINT GENERATED ALWAYS AS (IF(deleted_at IS NULL, 1, NULL)) STORED,
    UNIQUE KEY uk_orders_campaign_phone_live (campaign_id, phone, live),
    UNIQUE KEY uk_orders_trade_no (trade_no),
    INDEX idx_orders_referrer_id (referrer_id),
    INDEX idx_orders_participant_id (participant_id),
    INDEX idx_orders_status_created (status, created_at),
    INDEX idx_orders_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per payment attempt; the notify's out_trade_no finds the attempt and through it the order.
CREATE TABLE payments (
    id                 BIGINT PRIMARY KEY AUTO_INCREMENT,
    order_id           BIGINT       NOT NULL,
    attempt            INT          NOT NULL,
    out_trade_no       VARCHAR(32)  NOT NULL,
    channel            VARCHAR(16)  NOT NULL,
    amount_fen         BIGINT       NOT NULL,
    status             VARCHAR(20)  NOT NULL DEFAULT 'created',
    openid             VARCHAR(64)  NULL,
    prepay_id          VARCHAR(128) NULL,
    h5_url             VARCHAR(512) NULL,
    transaction_id     VARCHAR(64)  NULL,
    payer_total_fen    BIGINT       NULL,
    success_time       DATETIME(3)  NULL,
    received_at        DATETIME(3)  NULL,
    created_at         DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at         DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    UNIQUE KEY uk_payments_out_trade_no (out_trade_no),
    UNIQUE KEY uk_payments_order_attempt (order_id, attempt),
    INDEX idx_payments_status_created (status, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE rewards (
    id          BIGINT PRIMARY KEY AUTO_INCREMENT,
    user_id     BIGINT        NOT NULL,
    order_id    BIGINT        NOT NULL,
    campaign_id BIGINT        NOT NULL,
    amount      DECIMAL(10,2) NOT NULL,
    status      VARCHAR(20)   NOT NULL DEFAULT 'settled',
    settled_at  DATETIME(3)   NULL,
    created_at  DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at  DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    UNIQUE KEY uk_rewards_order_user (order_id, user_id),
    INDEX idx_rewards_user_id (user_id),
    INDEX idx_rewards_campaign (campaign_id, settled_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE user_balances (
    id           BIGINT PRIMARY KEY AUTO_INCREMENT,
    user_id      BIGINT        NOT NULL,
    balance      DECIMAL(12,2) NOT NULL DEFAULT 0.00,
    total_reward DECIMAL(12,2) NOT NULL DEFAULT 0.00,
    version      BIGINT        NOT NULL DEFAULT 0,
    created_at   DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at   DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    UNIQUE KEY uk_user_balances_user_id (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Sync outbox and status, one row per (entity, id); written in the settlement transaction.
CREATE TABLE sync_records (
    id              BIGINT PRIMARY KEY AUTO_INCREMENT,
    entity          VARCHAR(16)  NOT NULL,
    entity_id       BIGINT       NOT NULL,
    order_id        BIGINT       NOT NULL,
    status          VARCHAR(16)  NOT NULL DEFAULT 'pending',
    attempts        INT          NOT NULL DEFAULT 0,
    last_error      TEXT         NULL,
    committed_at    DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    published_at    DATETIME(3)  NULL,
    synced_at       DATETIME(3)  NULL,
    next_attempt_at DATETIME(3)  NULL,
    created_at      DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at      DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    UNIQUE KEY uk_sync_records_entity (entity, entity_id),
    INDEX idx_sync_records_order (order_id),
    INDEX idx_sync_records_status (status, updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Stream entries that failed too often; the dead-letter stream holds them too.
CREATE TABLE dead_letters (
    id          BIGINT PRIMARY KEY AUTO_INCREMENT,
    stream      VARCHAR(128) NOT NULL,
    entry_id    VARCHAR(64)  NOT NULL,
    group_name  VARCHAR(64)  NOT NULL,
    consumer    VARCHAR(128) NOT NULL,
    deliveries  INT          NOT NULL,
    message_type VARCHAR(64) NULL,
    message_key VARCHAR(200) NULL,
    payload     MEDIUMTEXT   NULL,
    error       TEXT         NULL,
    created_at  DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    replayed_at DATETIME(3)  NULL,
    UNIQUE KEY uk_dead_letters_entry (stream, group_name, entry_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
