-- Issue 17: the reward ledger. Every change of a participant's money is one reward_ledger row with a
-- unique business key (a retried step writes nothing twice); user_balances keeps the buckets in fen
-- under its optimistic version and always equals the sums of its ledger rows. balance/total_reward
-- (yuan) stay for old readers: balance = frozen + available, total_reward = total earned.
CREATE TABLE reward_ledger (
    id                    BIGINT PRIMARY KEY AUTO_INCREMENT,
    user_id               BIGINT       NOT NULL,
    kind                  VARCHAR(24)  NOT NULL,
    frozen_delta_fen      BIGINT       NOT NULL DEFAULT 0,
    available_delta_fen   BIGINT       NOT NULL DEFAULT 0,
    withdrawing_delta_fen BIGINT       NOT NULL DEFAULT 0,
    paid_out_delta_fen    BIGINT       NOT NULL DEFAULT 0,
    earned_delta_fen      BIGINT       NOT NULL DEFAULT 0,
    reward_id             BIGINT       NULL,
    order_id              BIGINT       NULL,
    refund_id             BIGINT       NULL,
    business_key          VARCHAR(100) NOT NULL,
    reason                VARCHAR(200) NULL,
    actor                 VARCHAR(64)  NULL,
    created_at            DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    UNIQUE KEY uk_reward_ledger_business_key (business_key),
    INDEX idx_reward_ledger_user (user_id, id),
    INDEX idx_reward_ledger_reward (reward_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

ALTER TABLE user_balances
    ADD COLUMN frozen_fen       BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN available_fen    BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN withdrawing_fen  BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN paid_out_fen     BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN total_earned_fen BIGINT NOT NULL DEFAULT 0;

UPDATE user_balances SET available_fen = ROUND(balance * 100), total_earned_fen = ROUND(total_reward * 100);

-- Balances from before the ledger get one opening row each, so that balance = sum(ledger) holds for them too.
INSERT INTO reward_ledger (user_id, kind, available_delta_fen, earned_delta_fen, business_key, reason, actor)
SELECT user_id, 'opening', available_fen, total_earned_fen, CONCAT('opening:', user_id), 'balance before the ledger', 'migration'
FROM user_balances WHERE available_fen <> 0 OR total_earned_fen <> 0;

-- A reward is frozen until available_at (settled_at + the campaign's hold days), then available;
-- reversed once refunds took all of it. rule_snapshot is the rule in force at payment.
ALTER TABLE rewards
    ADD COLUMN level        TINYINT     NOT NULL DEFAULT 1,
    ADD COLUMN amount_fen   BIGINT      NOT NULL DEFAULT 0,
    ADD COLUMN reversed_fen BIGINT      NOT NULL DEFAULT 0,
    ADD COLUMN available_at DATETIME(3) NULL,
    ADD COLUMN rule_snapshot JSON       NULL,
    ADD INDEX idx_rewards_status_available (status, available_at),
    ADD INDEX idx_rewards_user_campaign (user_id, campaign_id, level),
    ADD INDEX idx_rewards_settled (settled_at);

UPDATE rewards SET amount_fen = ROUND(amount * 100), status = 'available', available_at = settled_at WHERE status = 'settled';

-- Campaign rule: reward_config holds {levels, caps} (NULL: the old single-level reward_type/rule/bps).
ALTER TABLE campaigns
    ADD COLUMN reward_config JSON NULL,
    ADD COLUMN hold_days     INT  NOT NULL DEFAULT 7;

-- The referrer chain, fixed at registration: who referred a participant (their first registration)
-- and, on each order, the referrer's referrer and theirs.
ALTER TABLE participants ADD COLUMN referred_by BIGINT NOT NULL DEFAULT 0;

ALTER TABLE orders
    ADD COLUMN referrer2_id BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN referrer3_id BIGINT NOT NULL DEFAULT 0;
