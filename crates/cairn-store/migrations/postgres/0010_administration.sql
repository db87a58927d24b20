-- Safe administration and one's own data. Kept in step with ../sqlite/0010_administration.sql.

-- A revocation or suspension reason is shown to the public only when the issuer chose to publish it.
ALTER TABLE awards ADD COLUMN status_reason_public BIGINT NOT NULL DEFAULT 0;

-- A deleted account keeps its row (its awards point at it), anonymised; deleted_at marks it.
ALTER TABLE users ADD COLUMN deleted_at BIGINT;

-- A change of e-mail address waits for the link sent to the new address: its secret is kept
-- only as its SHA-256 digest; it works once (used_at) and until expires_at.
CREATE TABLE email_changes (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    new_email TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX email_changes_user ON email_changes (user_id);

-- Invitations to join an organisation, sent by e-mail: the secret is kept as its digest; an
-- invitation works once (accepted_at), until expires_at, unless revoked (revoked_at).
CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'staff', 'assessor')),
    token_hash TEXT NOT NULL UNIQUE,
    invited_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    accepted_at BIGINT,
    accepted_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    revoked_at BIGINT
);
CREATE INDEX invitations_organisation ON invitations (organisation_id);
