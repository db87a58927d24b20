-- Sign-in with an OpenID Connect provider the operator configured. A sign-in under way is kept
-- until the provider sends the browser back, for ten minutes at most: the digest of its state
-- (which the browser also holds in a cookie), the provider, the nonce the ID token must carry,
-- the PKCE verifier and where to go afterwards; it is deleted when used. An account is linked to
-- a provider's subject once, by the e-mail address the provider verified; the link is how the
-- same person is recognised afterwards, even if their address changes at the provider. Kept in
-- step with ../postgres/0037_identities.sql.
CREATE TABLE oidc_logins (
    state_hash TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    nonce TEXT NOT NULL,
    verifier TEXT NOT NULL,
    next TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE oidc_identities (
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    linked_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    PRIMARY KEY (provider, subject)
);

CREATE INDEX oidc_identities_user ON oidc_identities (user_id);
