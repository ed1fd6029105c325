-- Stats overview: payments per day by paid_at, rewards per day by settled_at (all campaigns), and the
-- per-campaign registrations range scan. Without these each dashboard load scans the whole table.
ALTER TABLE orders ADD INDEX idx_orders_paid_at (paid_at);
ALTER TABLE orders ADD INDEX idx_orders_campaign_created (campaign_id, created_at);
ALTER TABLE rewards ADD INDEX idx_rewards_settled_at (settled_at);
