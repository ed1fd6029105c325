-- Two indexes on rewards duplicated others, and every settled reward wrote all of them (issue 23):
-- idx_rewards_settled (V0700) is idx_rewards_settled_at (V0170) again, and idx_rewards_user_id (V0001)
-- is the prefix of idx_rewards_user_campaign (user_id, campaign_id, level), which serves its lookups.
ALTER TABLE rewards DROP INDEX idx_rewards_settled, DROP INDEX idx_rewards_user_id;
