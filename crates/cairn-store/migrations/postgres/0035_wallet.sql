-- Wallet pickup over OpenID for Verifiable Credential Issuance (pre-authorized code flow). A
-- learner's offer holds a single-use pre-authorized code and a transaction code, both kept as
-- digests (the transaction code's keyed by the pre-authorized code); wrong transaction codes are
-- counted. The offer is fetched by wallets at its random id (credential_offer_uri, which keeps the
-- QR code small), so until it is redeemed or expires its code is also kept sealed under the
-- master key. Redeeming an offer gives a short-lived access token for its award. Nonces are made
-- without the database and recorded here once spent, until they expire. Each credential a wallet
-- collects is recorded: the holder's DID, the format, and when (its id is the credential's
-- urn:uuid). Kept in step with ../sqlite/0035_wallet.sql.
CREATE TABLE wallet_offers (
    code_hash TEXT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    code_sealed TEXT,
    award_id TEXT NOT NULL REFERENCES awards (id) ON DELETE CASCADE,
    tx_code_hash TEXT NOT NULL,
    failures BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    redeemed_at BIGINT
);

CREATE INDEX wallet_offers_award ON wallet_offers (award_id);

CREATE TABLE wallet_tokens (
    token_hash TEXT PRIMARY KEY,
    offer_hash TEXT NOT NULL REFERENCES wallet_offers (code_hash) ON DELETE CASCADE,
    award_id TEXT NOT NULL REFERENCES awards (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);

CREATE INDEX wallet_tokens_offer ON wallet_tokens (offer_hash);

CREATE TABLE wallet_nonces (
    nonce_hash TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);

CREATE TABLE wallet_pickups (
    id TEXT PRIMARY KEY,
    award_id TEXT NOT NULL REFERENCES awards (id) ON DELETE CASCADE,
    holder TEXT NOT NULL,
    format TEXT NOT NULL,
    picked_up_at BIGINT NOT NULL
);

CREATE INDEX wallet_pickups_award ON wallet_pickups (award_id, picked_up_at);
