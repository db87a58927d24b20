-- Forgotten passwords: a reset link's secret is kept only as its SHA-256 digest; it works once
-- (used_at) and until expires_at. Kept in step with ../sqlite/0008_account.sql.

CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX password_resets_user ON password_resets (user_id);
