-- Issue 19: the poster layout chosen per campaign and its uploaded background (an /uploads/ URL).
-- Its own table so the campaign row (edited by other features) stays as it is; no row = 'classic'.
CREATE TABLE campaign_posters (
    campaign_id    BIGINT        NOT NULL PRIMARY KEY,
    template       VARCHAR(32)   NOT NULL DEFAULT 'classic',
    background_url VARCHAR(500)  NULL,
    updated_at     DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    CONSTRAINT fk_campaign_posters_campaign FOREIGN KEY (campaign_id) REFERENCES campaigns (id) ON DELETE CASCADE
);
