-- Issuer insight at scale, continued: assessments also carry when their attempt was sent and
-- due, and the insight's indexes hold every column its queries read, so one issuer's period is
-- read from the index alone.
-- Kept in step with ../postgres/0022_insight_covering.sql.
ALTER TABLE assessments ADD COLUMN submitted_at BIGINT;
ALTER TABLE assessments ADD COLUMN due_at BIGINT;

UPDATE assessments SET
    submitted_at = (SELECT t.submitted_at FROM submission_attempts t WHERE t.submission_id = assessments.submission_id AND t.attempt = assessments.attempt),
    due_at = (SELECT t.due_at FROM submission_attempts t WHERE t.submission_id = assessments.submission_id AND t.attempt = assessments.attempt);

DROP TRIGGER assessments_owner;
CREATE TRIGGER assessments_owner AFTER INSERT ON assessments
BEGIN
    UPDATE assessments SET
        organisation_id = (SELECT s.organisation_id FROM submissions s WHERE s.id = NEW.submission_id),
        achievement_id = (SELECT s.achievement_id FROM submissions s WHERE s.id = NEW.submission_id),
        submitted_at = (SELECT t.submitted_at FROM submission_attempts t WHERE t.submission_id = NEW.submission_id AND t.attempt = NEW.attempt),
        due_at = (SELECT t.due_at FROM submission_attempts t WHERE t.submission_id = NEW.submission_id AND t.attempt = NEW.attempt)
    WHERE id = NEW.id;
END;

DROP INDEX assessments_insight;
CREATE INDEX assessments_insight ON assessments (organisation_id, created_at, achievement_id, attempt, outcome, assessor_id, submission_id, submitted_at, due_at);
DROP INDEX submission_attempts_insight;
CREATE INDEX submission_attempts_insight ON submission_attempts (organisation_id, submitted_at, achievement_id, attempt);
DROP INDEX awards_issued;
CREATE INDEX awards_issued ON awards (organisation_id, issued_at, achievement_id);
DROP INDEX award_use_organisation;
CREATE INDEX award_use_organisation ON award_use (organisation_id, day, achievement_id, views, shares, verifications);
