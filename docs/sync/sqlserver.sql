-- Customer-side tables for DMH's syncer (SQL Server 2016+). Times are UTC (datetime2(3)).
CREATE TABLE dbo.dmh_orders (
    id            BIGINT IDENTITY(1,1) PRIMARY KEY,
    dmh_order_id  BIGINT         NOT NULL CONSTRAINT uk_dmh_orders_dmh_order_id UNIQUE,
    student_phone NVARCHAR(20)   NULL,
    student_name  NVARCHAR(64)   NULL,
    order_amount  DECIMAL(10,2)  NULL,
    register_time DATETIME2(3)   NULL,
    created_at    DATETIME2(3)   NOT NULL DEFAULT SYSUTCDATETIME()
);

CREATE TABLE dbo.dmh_rewards (
    id             BIGINT IDENTITY(1,1) PRIMARY KEY,
    dmh_reward_id  BIGINT         NOT NULL CONSTRAINT uk_dmh_rewards_dmh_reward_id UNIQUE,
    dmh_order_id   BIGINT         NULL,
    referrer_phone NVARCHAR(20)   NULL,
    reward_amount  DECIMAL(10,2)  NULL,
    settled_time   DATETIME2(3)   NULL,
    created_at     DATETIME2(3)   NOT NULL DEFAULT SYSUTCDATETIME()
);

-- One row per reversal of a reward by a refund (a refund never updates dmh_rewards: the syncer only inserts).
CREATE TABLE dbo.dmh_reward_reversals (
    id              BIGINT IDENTITY(1,1) PRIMARY KEY,
    dmh_reversal_id BIGINT         NOT NULL CONSTRAINT uk_dmh_reward_reversals_dmh_reversal_id UNIQUE,
    dmh_reward_id   BIGINT         NULL,
    dmh_order_id    BIGINT         NULL,
    out_refund_no   NVARCHAR(64)   NULL,
    referrer_phone  NVARCHAR(20)   NULL,
    reversed_amount DECIMAL(10,2)  NULL,
    reversed_time   DATETIME2(3)   NULL,
    created_at      DATETIME2(3)   NOT NULL DEFAULT SYSUTCDATETIME()
);
