-- Customer-side tables for DMH's syncer (PostgreSQL 12+). Times are written as UTC instants: use timestamptz.
CREATE TABLE IF NOT EXISTS dmh_orders (
    id            BIGSERIAL PRIMARY KEY,
    dmh_order_id  BIGINT        NOT NULL UNIQUE,
    student_phone VARCHAR(20)   NULL,
    student_name  VARCHAR(64)   NULL,
    order_amount  NUMERIC(10,2) NULL,
    register_time TIMESTAMPTZ   NULL,
    created_at    TIMESTAMPTZ   NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS dmh_rewards (
    id             BIGSERIAL PRIMARY KEY,
    dmh_reward_id  BIGINT        NOT NULL UNIQUE,
    dmh_order_id   BIGINT        NULL,
    referrer_phone VARCHAR(20)   NULL,
    reward_amount  NUMERIC(10,2) NULL,
    settled_time   TIMESTAMPTZ   NULL,
    created_at     TIMESTAMPTZ   NOT NULL DEFAULT now()
);

-- One row per reversal of a reward by a refund (a refund never updates dmh_rewards: the syncer only inserts).
CREATE TABLE IF NOT EXISTS dmh_reward_reversals (
    id              BIGSERIAL PRIMARY KEY,
    dmh_reversal_id BIGINT        NOT NULL UNIQUE,
    dmh_reward_id   BIGINT        NULL,
    dmh_order_id    BIGINT        NULL,
    out_refund_no   VARCHAR(64)   NULL,
    referrer_phone  VARCHAR(20)   NULL,
    reversed_amount NUMERIC(10,2) NULL,
    reversed_time   TIMESTAMPTZ   NULL,
    created_at      TIMESTAMPTZ   NOT NULL DEFAULT now()
);
