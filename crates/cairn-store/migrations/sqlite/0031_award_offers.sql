-- Direct awards. An issuer's staff offer an achievement to an e-mail address, with the
-- recipient's name, a narrative and evidence links. The address is e-mailed a claim link (its
-- secret kept here as a digest); following it, signed in with that address or creating an
-- account for it, issues the award to that account (`award_id`, `claimed_at`), in the award's
-- own transaction. One offer of an achievement to an address waits at a time, and an
-- `Idempotency-Key` names one offer per issuer, so a request sent twice offers once.
-- Kept in step with ../postgres/0031_award_offers.sql.
CREATE TABLE award_offers (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    achievement_id TEXT NOT NULL REFERENCES achievements (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    narrative TEXT NOT NULL,
    evidence_json TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    idempotency_key TEXT,
    fingerprint TEXT NOT NULL,
    offered_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    award_id TEXT REFERENCES awards (id) ON DELETE SET NULL,
    claimed_at BIGINT,
    withdrawn_at BIGINT
);

CREATE UNIQUE INDEX award_offers_key ON award_offers (organisation_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE UNIQUE INDEX award_offers_waiting ON award_offers (achievement_id, email) WHERE claimed_at IS NULL AND withdrawn_at IS NULL;
CREATE INDEX award_offers_organisation ON award_offers (organisation_id, created_at);
