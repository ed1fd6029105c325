-- Admin session tokens carry the account's session_version; a password change (or disabling) raises
-- it, so every token issued before stops working at once (issue 15, revoke sessions).
ALTER TABLE admin_users ADD COLUMN session_version INT NOT NULL DEFAULT 0;
