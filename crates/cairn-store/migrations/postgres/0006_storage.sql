-- Evidence storage: each issuer's per-learner quota and an index to add up a learner's files
-- with an issuer; indexes that let the blob sweep ask which stored keys are still referenced;
-- the last run of each periodic job, so instances sharing the database sweep once between them.
-- Kept in step with ../sqlite/0006_storage.sql.

ALTER TABLE issuer_settings ADD COLUMN evidence_quota_mb BIGINT NOT NULL DEFAULT 200;

CREATE INDEX submissions_learner_organisation ON submissions (learner_id, organisation_id);
CREATE INDEX artifacts_blob_key ON artifacts (blob_key);
CREATE INDEX awards_png_key ON awards (png_key);
CREATE INDEX awards_svg_key ON awards (svg_key);

CREATE TABLE job_runs (
    name TEXT PRIMARY KEY,
    last_run_at BIGINT NOT NULL
);
