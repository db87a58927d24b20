-- OAuth 2.0 for the Open Badges 3.0 API. A host system registers itself (RFC 7591) as a client;
-- a learner allows it access on the consent page, which makes a grant with the scopes allowed;
-- the grant's authorization code (single use, minutes long, with its PKCE challenge) is exchanged
-- for an access token and a refresh token. Every secret (client secret, code, token) is kept as
-- its SHA-256 digest. Revoking a grant ends all of its tokens; a refresh token is used once and
-- replaced. Imports gain the id of the credential they hold, so the API's upsert finds it again.
-- Kept in step with ../postgres/0034_oauth.sql.
CREATE TABLE oauth_clients (
    id TEXT PRIMARY KEY,
    secret_hash TEXT,
    auth_method TEXT NOT NULL,
    name TEXT NOT NULL,
    redirect_uris_json TEXT NOT NULL,
    scope TEXT NOT NULL,
    refresh BIGINT NOT NULL,
    metadata_json TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE oauth_grants (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

CREATE INDEX oauth_grants_user ON oauth_grants (user_id, created_at);

CREATE TABLE oauth_codes (
    code_hash TEXT PRIMARY KEY,
    grant_id TEXT NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE INDEX oauth_codes_grant ON oauth_codes (grant_id);

CREATE TABLE oauth_tokens (
    token_hash TEXT PRIMARY KEY,
    grant_id TEXT NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE INDEX oauth_tokens_grant ON oauth_tokens (grant_id);

ALTER TABLE imports ADD COLUMN credential_id TEXT;

CREATE INDEX imports_credential ON imports (user_id, credential_id);
