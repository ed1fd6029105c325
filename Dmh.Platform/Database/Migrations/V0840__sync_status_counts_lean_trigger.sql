-- The update trigger of V0830 ran an INSERT ... SELECT over a derived UNION with ORDER BY for every
-- updated sync_records row, status changed or not: a temporary table, a sort and a planned join per
-- row. A CPU profile of a settlement backlog drain put a fifth of MariaDB's CPU in it (issue 23).
-- Most updates of a row leave its status alone (published_at, last_error, next_attempt_at), so the
-- count is only touched when the status moves, and then with a plain two-row VALUES list. The two
-- counter rows are still written in status order (as the ORDER BY did), so two transactions moving
-- rows in opposite directions on one slot never deadlock on them.
-- One line: the migrator splits statements on semicolons that end a line.
DROP TRIGGER IF EXISTS sync_records_count_update;
CREATE TRIGGER sync_records_count_update AFTER UPDATE ON sync_records FOR EACH ROW IF OLD.status <> NEW.status THEN IF OLD.status < NEW.status THEN INSERT INTO sync_status_counts (status, slot, n) VALUES (OLD.status, CONNECTION_ID() % 16, -1), (NEW.status, CONNECTION_ID() % 16, 1) ON DUPLICATE KEY UPDATE n = n + VALUES(n); ELSE INSERT INTO sync_status_counts (status, slot, n) VALUES (NEW.status, CONNECTION_ID() % 16, 1), (OLD.status, CONNECTION_ID() % 16, -1) ON DUPLICATE KEY UPDATE n = n + VALUES(n); END IF; END IF;
