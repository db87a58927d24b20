-- Expiry reminders: each award's learner is told 90, 30 and 7 days before it expires, each
-- reminder once (the row is written with its notice in one transaction). Kept in step with
-- ../postgres/0013_expiry_reminders.sql.
CREATE TABLE expiry_reminders (
    award_id TEXT NOT NULL REFERENCES awards (id) ON DELETE CASCADE,
    days INTEGER NOT NULL,
    sent_at BIGINT NOT NULL,
    PRIMARY KEY (award_id, days)
);
-- The reminder run reads the active awards that expire within the earliest reminder's window.
CREATE INDEX awards_valid_until ON awards (valid_until) WHERE status = 'active' AND valid_until IS NOT NULL;
