-- Settlement: the registration code shown to a paid registrant is unique (NULL until paid).
ALTER TABLE orders ADD UNIQUE KEY uk_orders_registration_code (registration_code);
-- Dead letters are listed newest first, optionally unreplayed only.
ALTER TABLE dead_letters ADD INDEX idx_dead_letters_replayed (replayed_at, id);
-- Reconciliation asks about an unpaid attempt at most once per Reconciliation:QueryAfter, so a payment
-- whose settlement keeps failing is not re-published on every sweep.
ALTER TABLE payments ADD COLUMN last_reconciled_at DATETIME(3) NULL;
