-- The syncer's outbox sweeper looks for pending rows by publication and retry time.
CREATE INDEX idx_sync_records_sweep ON sync_records (status, next_attempt_at, published_at);
