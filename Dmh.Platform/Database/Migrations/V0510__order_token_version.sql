-- Issue 15 (H1): every X-Order-Token names the order's token_version; bumping it revokes the tokens
-- issued before (a repeat registration proven by SMS or a session takes the order over).
ALTER TABLE orders ADD COLUMN token_version INT NOT NULL DEFAULT 1 AFTER registration_code;
