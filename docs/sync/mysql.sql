-- Customer-side tables for DMH's syncer (MySQL 8 / MariaDB 10.6+). The unique key on the DMH id
-- makes every copy idempotent: a row already present is skipped, never updated.
CREATE TABLE IF NOT EXISTS dmh_orders (
    id            BIGINT AUTO_INCREMENT PRIMARY KEY,
    dmh_order_id  BIGINT        NOT NULL,
    student_phone VARCHAR(20)   NULL,
    student_name  VARCHAR(64)   NULL,
    order_amount  DECIMAL(10,2) NULL,
    register_time DATETIME(3)   NULL,
    created_at    DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    UNIQUE KEY uk_dmh_orders_dmh_order_id (dmh_order_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS dmh_rewards (
    id             BIGINT AUTO_INCREMENT PRIMARY KEY,
    dmh_reward_id  BIGINT        NOT NULL,
    dmh_order_id   BIGINT        NULL,
    referrer_phone VARCHAR(20)   NULL,
    reward_amount  DECIMAL(10,2) NULL,
    settled_time   DATETIME(3)   NULL,
    created_at     DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    UNIQUE KEY uk_dmh_rewards_dmh_reward_id (dmh_reward_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- One row per reversal of a reward by a refund (a refund never updates dmh_rewards: the syncer only inserts).
CREATE TABLE IF NOT EXISTS dmh_reward_reversals (
    id              BIGINT AUTO_INCREMENT PRIMARY KEY,
    dmh_reversal_id BIGINT        NOT NULL,
    dmh_reward_id   BIGINT        NULL,
    dmh_order_id    BIGINT        NULL,
    out_refund_no   VARCHAR(64)   NULL,
    referrer_phone  VARCHAR(20)   NULL,
    reversed_amount DECIMAL(10,2) NULL,
    reversed_time   DATETIME(3)   NULL,
    created_at      DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    UNIQUE KEY uk_dmh_reward_reversals_dmh_reversal_id (dmh_reversal_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
