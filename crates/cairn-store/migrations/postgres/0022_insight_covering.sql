-- Issuer insight at scale, continued: assessments also carry when their attempt was sent and
-- due, and the insight's indexes hold every column its queries read, so one issuer's period is
-- read from the index alone.
-- Kept in step with ../sqlite/0022_insight_covering.sql.
ALTER TABLE assessments ADD COLUMN submitted_at BIGINT;
ALTER TABLE assessments ADD COLUMN due_at BIGINT;

UPDATE assessments a SET submitted_at = t.submitted_at, due_at = t.due_at
FROM submission_attempts t WHERE t.submission_id = a.submission_id AND t.attempt = a.attempt;

CREATE FUNCTION set_assessment_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT s.organisation_id, s.achievement_id INTO NEW.organisation_id, NEW.achievement_id FROM submissions s WHERE s.id = NEW.submission_id;
    SELECT t.submitted_at, t.due_at INTO NEW.submitted_at, NEW.due_at FROM submission_attempts t
    WHERE t.submission_id = NEW.submission_id AND t.attempt = NEW.attempt;
    RETURN NEW;
END;
$$;
DROP TRIGGER assessments_owner ON assessments;
CREATE TRIGGER assessments_owner BEFORE INSERT ON assessments FOR EACH ROW EXECUTE FUNCTION set_assessment_owner();

DROP INDEX assessments_insight;
CREATE INDEX assessments_insight ON assessments (organisation_id, created_at, achievement_id, attempt, outcome, assessor_id, submission_id, submitted_at, due_at);
DROP INDEX submission_attempts_insight;
CREATE INDEX submission_attempts_insight ON submission_attempts (organisation_id, submitted_at, achievement_id, attempt);
DROP INDEX awards_issued;
CREATE INDEX awards_issued ON awards (organisation_id, issued_at, achievement_id);
DROP INDEX award_use_organisation;
CREATE INDEX award_use_organisation ON award_use (organisation_id, day, achievement_id, views, shares, verifications);
