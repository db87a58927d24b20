-- Fees that work and collaborators who are told: how a micro-credential's fee is charged across
-- its levels (paid once up front, or a share per level); the issuer's payment instructions and
-- link, and whether a submit waits for every named collaborator's reflection; when each named
-- collaborator was told. Kept in step with ../sqlite/0009_fees_collaboration.sql.

ALTER TABLE achievement_versions ADD COLUMN fee_plan TEXT NOT NULL DEFAULT 'upfront';

ALTER TABLE issuer_settings ADD COLUMN payment_instructions TEXT NOT NULL DEFAULT '';
ALTER TABLE issuer_settings ADD COLUMN payment_url TEXT;
ALTER TABLE issuer_settings ADD COLUMN collaborator_reflections TEXT NOT NULL DEFAULT 'warn';

ALTER TABLE submission_collaborators ADD COLUMN notified_at BIGINT;
