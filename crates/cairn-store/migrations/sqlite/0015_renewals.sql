-- Renewals: a renewal is a submission naming the award it renews; its pass issues a new award
-- that names the previous one (renews), and the previous one names its successor (renewed_by).
-- A learner holds one current award per achievement (renewed_by IS NULL); renewed ones stay, so
-- that their pages and credentials keep verifying. Each achievement version has a renewal path:
-- a full reassessment, or a light renewal with a rubric and instructions of its own. The renewal
-- transaction marks the previous award renewed before it inserts the new one (so that the learner
-- never holds two current awards), hence the deferred reference of renewed_by.
-- Kept in step with ../postgres/0015_renewals.sql.
--
-- SQLite cannot drop a table constraint, so `awards` is rebuilt without UNIQUE (learner_id,
-- achievement_id), by the procedure SQLite documents ("Making Other Kinds Of Table Schema
-- Changes"): create the new table, copy the rows by column name, drop the old one, rename the
-- new one, recreate the indexes. Dropping `awards` with foreign keys enforced would delete, by
-- ON DELETE CASCADE, every row that refers to an award (expiry_reminders); sqlx runs each SQLite
-- migration inside a transaction, where `PRAGMA foreign_keys` cannot be changed, so
-- `Store::connect` runs the SQLite migrations on a connection of their own with foreign keys off
-- and checks them all (`PRAGMA foreign_key_check`) before closing it.

ALTER TABLE achievement_versions ADD COLUMN renewal_path TEXT NOT NULL DEFAULT 'full' CHECK (renewal_path IN ('full', 'light'));
ALTER TABLE achievement_versions ADD COLUMN renewal_rubric_json TEXT;
ALTER TABLE achievement_versions ADD COLUMN renewal_instructions TEXT;

ALTER TABLE submissions ADD COLUMN renewal_of TEXT REFERENCES awards (id) ON DELETE SET NULL;

CREATE TABLE awards_new (
    id TEXT PRIMARY KEY,
    achievement_id TEXT NOT NULL REFERENCES achievements (id) ON DELETE CASCADE,
    achievement_version BIGINT NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    learner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    submission_id TEXT UNIQUE REFERENCES submissions (id) ON DELETE SET NULL,
    issued_at BIGINT NOT NULL,
    valid_until BIGINT,
    status TEXT NOT NULL CHECK (status IN ('active', 'revoked', 'suspended')),
    status_reason TEXT,
    status_changed_at BIGINT,
    privacy TEXT NOT NULL CHECK (privacy IN ('public', 'unlisted', 'private')),
    evidence_public BIGINT NOT NULL,
    status_index BIGINT NOT NULL,
    recipient_salt TEXT NOT NULL,
    results_json TEXT NOT NULL,
    credential_json TEXT NOT NULL,
    jwt TEXT NOT NULL,
    ob2_json TEXT NOT NULL,
    png_key TEXT NOT NULL,
    svg_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    status_reason_public BIGINT NOT NULL DEFAULT 0,
    renews TEXT REFERENCES awards (id) ON DELETE SET NULL,
    renewed_by TEXT REFERENCES awards (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    UNIQUE (organisation_id, status_index)
);

INSERT INTO awards_new (id, achievement_id, achievement_version, organisation_id, learner_id, submission_id, issued_at, valid_until, status,
    status_reason, status_changed_at, privacy, evidence_public, status_index, recipient_salt, results_json, credential_json, jwt, ob2_json,
    png_key, svg_key, created_at, status_reason_public)
SELECT id, achievement_id, achievement_version, organisation_id, learner_id, submission_id, issued_at, valid_until, status,
    status_reason, status_changed_at, privacy, evidence_public, status_index, recipient_salt, results_json, credential_json, jwt, ob2_json,
    png_key, svg_key, created_at, status_reason_public
FROM awards;

DROP TABLE awards;
ALTER TABLE awards_new RENAME TO awards;

CREATE INDEX awards_learner ON awards (learner_id);
CREATE INDEX awards_png_key ON awards (png_key);
CREATE INDEX awards_svg_key ON awards (svg_key);
CREATE INDEX awards_flagged ON awards (organisation_id, status_index) WHERE status <> 'active';
CREATE INDEX awards_valid_until ON awards (valid_until) WHERE status = 'active' AND valid_until IS NOT NULL;

-- One current award per learner and achievement; renewed awards stay beside it.
CREATE UNIQUE INDEX awards_current ON awards (learner_id, achievement_id) WHERE renewed_by IS NULL;
-- An award is renewed once.
CREATE UNIQUE INDEX awards_renews ON awards (renews) WHERE renews IS NOT NULL;

-- One live submission per learner and achievement, renewals aside; one live renewal per award.
DROP INDEX submissions_live;
CREATE UNIQUE INDEX submissions_live ON submissions (learner_id, achievement_id) WHERE status <> 'withdrawn' AND renewal_of IS NULL;
CREATE UNIQUE INDEX submissions_renewal ON submissions (renewal_of) WHERE status <> 'withdrawn' AND renewal_of IS NOT NULL;
