-- Campaign approval (issue 20 item 5, on when Campaigns:RequireApproval is true): operators submit,
-- admins approve (which publishes) or reject with a reason. NULL = not submitted.
ALTER TABLE campaigns
    ADD COLUMN approval_status VARCHAR(16)  NULL,
    ADD COLUMN approval_reason VARCHAR(500) NULL,
    ADD COLUMN approval_by     BIGINT       NULL,
    ADD COLUMN approval_at     DATETIME(3)  NULL;
