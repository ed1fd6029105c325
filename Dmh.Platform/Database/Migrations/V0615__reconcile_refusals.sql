-- Reconciliation settles an attempt the provider reports paid. When settlement refuses it (its amount
-- disagrees, it was never prepaid), reconciliation asks again only after a growing pause and, after
-- Reconciliation:MaxRefusals refusals, stops and marks the attempt for an operator (issue 15).
ALTER TABLE payments
    ADD COLUMN reconcile_refusals INT NOT NULL DEFAULT 0,
    ADD COLUMN reconcile_not_before DATETIME(3) NULL,
    ADD COLUMN reconcile_stopped_at DATETIME(3) NULL;
