-- The audit log (issue 20, item 4): who did what and when in the admin console. One row per action,
-- written by Dmh.Ingress/Audit/AuditLog in the same transaction as the change it records where there
-- is one. actor_name is copied so the row still says who after the account is renamed or removed;
-- a failed sign-in has no actor id, only the name that was typed.
CREATE TABLE audit_log (
    id          BIGINT PRIMARY KEY AUTO_INCREMENT,
    created_at  DATETIME(3)  NOT NULL,
    actor_id    BIGINT       NULL,
    actor_name  VARCHAR(64)  NULL,
    actor_role  VARCHAR(16)  NULL,
    action      VARCHAR(48)  NOT NULL,
    target_type VARCHAR(32)  NULL,
    target_id   VARCHAR(64)  NULL,
    detail      JSON         NULL,
    ip          VARCHAR(45)  NULL,
    INDEX idx_audit_created (created_at),
    INDEX idx_audit_actor (actor_id, id),
    INDEX idx_audit_action (action, id),
    INDEX idx_audit_target (target_type, target_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
