-- Issuer insight at scale, third step: each assessment carries when its submission's previous
-- attempt was decided (`prev_at`, none for the first decision). A submission is counted once in
-- a period's pass rate, at its first decision in the period: the one whose previous decision
-- came before the period. So the pass rate is summed over the period's assessments from the
-- covering index alone, instead of grouping them by submission. (A pass ends a submission, so
-- each submission has one pass at most.)
-- Kept in step with ../postgres/0025_insight_previous.sql.
ALTER TABLE assessments ADD COLUMN prev_at BIGINT;

UPDATE assessments SET prev_at = p.prev_at
FROM (SELECT id, MAX(created_at) OVER (PARTITION BY submission_id ORDER BY attempt ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_at
      FROM assessments) p
WHERE p.id = assessments.id AND p.prev_at IS NOT NULL;

DROP TRIGGER assessments_owner;
CREATE TRIGGER assessments_owner AFTER INSERT ON assessments
BEGIN
    UPDATE assessments SET
        organisation_id = (SELECT s.organisation_id FROM submissions s WHERE s.id = NEW.submission_id),
        achievement_id = (SELECT s.achievement_id FROM submissions s WHERE s.id = NEW.submission_id),
        submitted_at = (SELECT t.submitted_at FROM submission_attempts t WHERE t.submission_id = NEW.submission_id AND t.attempt = NEW.attempt),
        due_at = (SELECT t.due_at FROM submission_attempts t WHERE t.submission_id = NEW.submission_id AND t.attempt = NEW.attempt),
        prev_at = (SELECT MAX(a.created_at) FROM assessments a WHERE a.submission_id = NEW.submission_id AND a.attempt < NEW.attempt)
    WHERE id = NEW.id;
END;

DROP INDEX assessments_insight;
CREATE INDEX assessments_insight ON assessments (organisation_id, created_at, achievement_id, attempt, outcome, assessor_id, submission_id, submitted_at, due_at, prev_at);
