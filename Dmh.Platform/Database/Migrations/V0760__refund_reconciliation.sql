-- Issue 17: reconciliation asks WeChat about refunds left created/processing (a lost notify), at most
-- once per Reconciliation:QueryAfter each.
ALTER TABLE refunds
    ADD COLUMN last_reconciled_at DATETIME(3) NULL,
    ADD INDEX idx_refunds_reconcile (status, last_reconciled_at);
