-- Issue 19: channels, and the visit-tracking rollups Settlement writes from the dmh:track stream.

-- Registered channels: the c_id of a campaign link. Unregistered c_id values are still tracked.
CREATE TABLE channels (
    id         BIGINT PRIMARY KEY AUTO_INCREMENT,
    code       VARCHAR(64)  NOT NULL,
    name       VARCHAR(100) NOT NULL,
    note       VARCHAR(500) NULL,
    created_at DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    UNIQUE KEY uk_channels_code (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Every tracking batch counted, by its key: a batch seen again is skipped. `token` tells the
-- transaction that inserted a row from one that found it already there (INSERT IGNORE).
CREATE TABLE track_batches (
    batch_key   VARCHAR(140) NOT NULL PRIMARY KEY,
    token       CHAR(32)     NOT NULL,
    received_at DATETIME(3)  NOT NULL,
    INDEX idx_track_batches_received (received_at)
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;

-- Visitors seen per bucket (gran 'd': local day, 'h': local hour) and campaign x channel x referrer;
-- the rows an INSERT IGNORE adds raise the rollup's visitors. Ranges count DISTINCT visitor_id here.
CREATE TABLE track_visitors (
    gran        CHAR(1)      NOT NULL,
    bucket      DATETIME     NOT NULL,
    campaign_id BIGINT       NOT NULL,
    channel     VARCHAR(64)  NOT NULL,
    referrer    VARCHAR(16)  NOT NULL,
    visitor_id  VARCHAR(64)  NOT NULL,
    PRIMARY KEY (gran, campaign_id, bucket, channel, referrer, visitor_id)
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;

-- Per local day ('d') and local hour ('h') of the display zone; bucket is local wall-clock time.
CREATE TABLE track_rollups (
    gran        CHAR(1)      NOT NULL,
    bucket      DATETIME     NOT NULL,
    campaign_id BIGINT       NOT NULL,
    channel     VARCHAR(64)  NOT NULL,
    referrer    VARCHAR(16)  NOT NULL,
    views       BIGINT       NOT NULL DEFAULT 0,
    visitors    BIGINT       NOT NULL DEFAULT 0,
    form_starts BIGINT       NOT NULL DEFAULT 0,
    submits     BIGINT       NOT NULL DEFAULT 0,
    pay_starts  BIGINT       NOT NULL DEFAULT 0,
    updated_at  DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    PRIMARY KEY (gran, campaign_id, bucket, channel, referrer)
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;
