-- Badges earned elsewhere that learners imported: the credential as given (JSON, JWT or a web
-- address; a baked image is kept in the blob store), what was read from it, and the verdict of
-- its last verification with its date. Kept in step with ../postgres/0014_imports.sql.
CREATE TABLE imports (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    source TEXT NOT NULL CHECK (source IN ('json', 'jwt', 'url', 'png', 'svg')),
    input TEXT NOT NULL,
    blob_key TEXT,
    input_digest TEXT NOT NULL,
    format TEXT NOT NULL,
    name TEXT NOT NULL,
    issuer_name TEXT NOT NULL,
    issuer_id TEXT,
    achievement_id TEXT,
    verdict TEXT NOT NULL CHECK (verdict IN ('valid', 'invalid', 'indeterminate')),
    verdict_detail TEXT,
    verified_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (user_id, input_digest)
);
CREATE INDEX imports_user ON imports (user_id, created_at);
