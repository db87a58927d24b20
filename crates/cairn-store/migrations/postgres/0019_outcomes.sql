-- Outcome figures: whether an issuer publishes its pass rate and median time to decision on its
-- achievement pages and in comparisons (off until the issuer turns it on). The figures are
-- counted from submissions, assessments and attempts as they are; nothing new is stored.
-- Kept in step with ../sqlite/0019_outcomes.sql.

ALTER TABLE issuer_settings ADD COLUMN publish_outcomes BIGINT NOT NULL DEFAULT 0;
