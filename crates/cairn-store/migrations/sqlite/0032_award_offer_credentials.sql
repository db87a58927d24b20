-- A direct award is issued when the issuer makes it, held for the address until it is claimed:
-- its credential is signed (Data Integrity and VC-JWT), its OB 2.0 assertion written and its
-- badge images baked then, with a status-list index reserved, and the claim turns them into the
-- award of the account that claims it (the award keeps `credential_award_id` as its id). Also
-- the rubric results of an assessment done elsewhere, as an award keeps them (`results_json`).
-- Offers made before this have no credential; theirs is issued at the claim. Kept in step with
-- ../postgres/0032_award_offer_credentials.sql.
ALTER TABLE award_offers ADD COLUMN results_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE award_offers ADD COLUMN credential_award_id TEXT;
ALTER TABLE award_offers ADD COLUMN achievement_version BIGINT;
ALTER TABLE award_offers ADD COLUMN issued_at BIGINT;
ALTER TABLE award_offers ADD COLUMN valid_until BIGINT;
ALTER TABLE award_offers ADD COLUMN status_index BIGINT;
ALTER TABLE award_offers ADD COLUMN recipient_salt TEXT;
ALTER TABLE award_offers ADD COLUMN credential_json TEXT;
ALTER TABLE award_offers ADD COLUMN jwt TEXT;
ALTER TABLE award_offers ADD COLUMN ob2_json TEXT;
ALTER TABLE award_offers ADD COLUMN png_key TEXT;
ALTER TABLE award_offers ADD COLUMN svg_key TEXT;

-- A waiting offer's status index is its issuer's: no other waiting offer takes it (awards avoid
-- it too; see cairn_store::Store::used_status_indexes).
CREATE UNIQUE INDEX award_offers_status_index ON award_offers (organisation_id, status_index)
    WHERE status_index IS NOT NULL AND claimed_at IS NULL AND withdrawn_at IS NULL;
