-- Accounts, sessions, API tokens, organisations, members and versioned achievements.
-- Times are Unix seconds (BIGINT); ids are UUID text. Kept in step with ../sqlite/0001_foundation.sql.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE organisations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    email TEXT,
    description TEXT NOT NULL,
    image_key TEXT,
    image_type TEXT,
    public_key_multibase TEXT NOT NULL,
    private_key_sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE memberships (
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'staff', 'assessor')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (organisation_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE achievements (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('micro-badge', 'micro-credential', 'level')),
    level BIGINT,
    parent_id TEXT REFERENCES achievements (id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('draft', 'published', 'retired')),
    current_version BIGINT NOT NULL,
    name_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    published_at BIGINT,
    -- Full-text search over the current version (a micro-credential's text includes its levels).
    search TSVECTOR,
    UNIQUE (organisation_id, name_key)
);
CREATE INDEX achievements_catalog ON achievements (state, parent_id);
CREATE INDEX achievements_parent ON achievements (parent_id);
CREATE INDEX achievements_search ON achievements USING GIN (search);

CREATE TABLE achievement_versions (
    achievement_id TEXT NOT NULL REFERENCES achievements (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    criteria TEXT NOT NULL,
    rubric_json TEXT,
    tags_json TEXT NOT NULL,
    language TEXT NOT NULL,
    effort_minutes BIGINT,
    fee_minor BIGINT,
    fee_currency TEXT,
    validity_months BIGINT,
    image_key TEXT,
    image_type TEXT,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (achievement_id, version)
);

CREATE TABLE achievement_alignments (
    achievement_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    position BIGINT NOT NULL,
    target_name TEXT NOT NULL,
    target_url TEXT NOT NULL,
    target_description TEXT,
    target_framework TEXT,
    target_code TEXT,
    target_type TEXT,
    PRIMARY KEY (achievement_id, version, position),
    FOREIGN KEY (achievement_id, version) REFERENCES achievement_versions (achievement_id, version) ON DELETE CASCADE
);
