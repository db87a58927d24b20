-- Bulk award: a CSV file of direct awards. Its rows are checked when it is uploaded and kept here
-- with what the check found; a batch uploaded on the issuer's page waits (`started_at` NULL) for
-- the issuer to confirm the preview. Once started, an `award_batch` effect awards the pending rows
-- chunk by chunk (each chunk one transaction: its direct awards, their claim mail and the rows'
-- states), so a batch stopped by a crash resumes where it was. Kept in step with
-- ../postgres/0033_award_batches.sql.
CREATE TABLE award_batches (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    created_by TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    file_name TEXT NOT NULL,
    total BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
CREATE INDEX award_batches_organisation ON award_batches (organisation_id, created_at);

-- state: pending (to award), awarded (`offer_id` made), skipped or failed (`detail` says why).
CREATE TABLE award_batch_rows (
    batch_id TEXT NOT NULL REFERENCES award_batches (id) ON DELETE CASCADE,
    line BIGINT NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    achievement_id TEXT NOT NULL,
    narrative TEXT NOT NULL,
    evidence_url TEXT NOT NULL,
    state TEXT NOT NULL,
    detail TEXT,
    offer_id TEXT REFERENCES award_offers (id) ON DELETE SET NULL,
    PRIMARY KEY (batch_id, line)
);
CREATE INDEX award_batch_rows_pending ON award_batch_rows (batch_id, line) WHERE state = 'pending';
