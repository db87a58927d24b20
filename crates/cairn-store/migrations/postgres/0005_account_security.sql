-- Account security: an API token has a scope (read-only or full) and may expire; a browser
-- session ends after an idle period, measured from last_seen_at. Tokens made before this have
-- full scope and no expiry; sessions count as seen when the migration runs.
-- Kept in step with ../sqlite/0005_account_security.sql.

ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'full' CHECK (scope IN ('read-only', 'full'));
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;

ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET last_seen_at = EXTRACT(EPOCH FROM now())::BIGINT;
