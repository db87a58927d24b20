-- Issuer insight at scale. Attempts and assessments carry their submission's organisation and
-- achievement (set by triggers when they are written), so that the figures of one issuer over a
-- period are read by index from that issuer's rows in that period, not from all its submissions.
-- Kept in step with ../postgres/0021_insight_index.sql.
ALTER TABLE submission_attempts ADD COLUMN organisation_id TEXT;
ALTER TABLE submission_attempts ADD COLUMN achievement_id TEXT;
ALTER TABLE assessments ADD COLUMN organisation_id TEXT;
ALTER TABLE assessments ADD COLUMN achievement_id TEXT;

UPDATE submission_attempts SET
    organisation_id = (SELECT s.organisation_id FROM submissions s WHERE s.id = submission_attempts.submission_id),
    achievement_id = (SELECT s.achievement_id FROM submissions s WHERE s.id = submission_attempts.submission_id);
UPDATE assessments SET
    organisation_id = (SELECT s.organisation_id FROM submissions s WHERE s.id = assessments.submission_id),
    achievement_id = (SELECT s.achievement_id FROM submissions s WHERE s.id = assessments.submission_id);

CREATE INDEX submission_attempts_insight ON submission_attempts (organisation_id, submitted_at);
CREATE INDEX assessments_insight ON assessments (organisation_id, created_at);
CREATE INDEX awards_issued ON awards (organisation_id, issued_at);

CREATE TRIGGER submission_attempts_owner AFTER INSERT ON submission_attempts
BEGIN
    UPDATE submission_attempts SET
        organisation_id = (SELECT s.organisation_id FROM submissions s WHERE s.id = NEW.submission_id),
        achievement_id = (SELECT s.achievement_id FROM submissions s WHERE s.id = NEW.submission_id)
    WHERE submission_id = NEW.submission_id AND attempt = NEW.attempt;
END;

CREATE TRIGGER assessments_owner AFTER INSERT ON assessments
BEGIN
    UPDATE assessments SET
        organisation_id = (SELECT s.organisation_id FROM submissions s WHERE s.id = NEW.submission_id),
        achievement_id = (SELECT s.achievement_id FROM submissions s WHERE s.id = NEW.submission_id)
    WHERE id = NEW.id;
END;
