-- Issuer insight at scale. Attempts and assessments carry their submission's organisation and
-- achievement (set by triggers when they are written), so that the figures of one issuer over a
-- period are read by index from that issuer's rows in that period, not from all its submissions.
-- Kept in step with ../sqlite/0021_insight_index.sql.
ALTER TABLE submission_attempts ADD COLUMN organisation_id TEXT;
ALTER TABLE submission_attempts ADD COLUMN achievement_id TEXT;
ALTER TABLE assessments ADD COLUMN organisation_id TEXT;
ALTER TABLE assessments ADD COLUMN achievement_id TEXT;

UPDATE submission_attempts t SET organisation_id = s.organisation_id, achievement_id = s.achievement_id FROM submissions s WHERE s.id = t.submission_id;
UPDATE assessments a SET organisation_id = s.organisation_id, achievement_id = s.achievement_id FROM submissions s WHERE s.id = a.submission_id;

CREATE INDEX submission_attempts_insight ON submission_attempts (organisation_id, submitted_at);
CREATE INDEX assessments_insight ON assessments (organisation_id, created_at);
CREATE INDEX awards_issued ON awards (organisation_id, issued_at);

CREATE FUNCTION set_submission_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT s.organisation_id, s.achievement_id INTO NEW.organisation_id, NEW.achievement_id FROM submissions s WHERE s.id = NEW.submission_id;
    RETURN NEW;
END;
$$;

CREATE TRIGGER submission_attempts_owner BEFORE INSERT ON submission_attempts FOR EACH ROW EXECUTE FUNCTION set_submission_owner();
CREATE TRIGGER assessments_owner BEFORE INSERT ON assessments FOR EACH ROW EXECUTE FUNCTION set_submission_owner();
