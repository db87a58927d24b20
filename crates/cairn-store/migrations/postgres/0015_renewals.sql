-- Renewals: a renewal is a submission naming the award it renews; its pass issues a new award
-- that names the previous one (renews), and the previous one names its successor (renewed_by).
-- A learner holds one current award per achievement (renewed_by IS NULL); renewed ones stay, so
-- that their pages and credentials keep verifying. Each achievement version has a renewal path:
-- a full reassessment, or a light renewal with a rubric and instructions of its own. The renewal
-- transaction marks the previous award renewed before it inserts the new one (so that the learner
-- never holds two current awards), hence the deferred reference of renewed_by.
-- Kept in step with ../sqlite/0015_renewals.sql (which rebuilds `awards`: SQLite cannot drop a
-- table constraint).

ALTER TABLE achievement_versions ADD COLUMN renewal_path TEXT NOT NULL DEFAULT 'full' CHECK (renewal_path IN ('full', 'light'));
ALTER TABLE achievement_versions ADD COLUMN renewal_rubric_json TEXT;
ALTER TABLE achievement_versions ADD COLUMN renewal_instructions TEXT;

ALTER TABLE submissions ADD COLUMN renewal_of TEXT REFERENCES awards (id) ON DELETE SET NULL;

ALTER TABLE awards ADD COLUMN renews TEXT REFERENCES awards (id) ON DELETE SET NULL;
ALTER TABLE awards ADD COLUMN renewed_by TEXT REFERENCES awards (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED;

-- One current award per learner and achievement; renewed awards stay beside it.
ALTER TABLE awards DROP CONSTRAINT awards_learner_id_achievement_id_key;
CREATE UNIQUE INDEX awards_current ON awards (learner_id, achievement_id) WHERE renewed_by IS NULL;
-- An award is renewed once.
CREATE UNIQUE INDEX awards_renews ON awards (renews) WHERE renews IS NOT NULL;

-- One live submission per learner and achievement, renewals aside; one live renewal per award.
DROP INDEX submissions_live;
CREATE UNIQUE INDEX submissions_live ON submissions (learner_id, achievement_id) WHERE status <> 'withdrawn' AND renewal_of IS NULL;
CREATE UNIQUE INDEX submissions_renewal ON submissions (renewal_of) WHERE status <> 'withdrawn' AND renewal_of IS NOT NULL;
