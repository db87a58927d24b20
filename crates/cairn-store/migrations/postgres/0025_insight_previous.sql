-- Issuer insight at scale, third step: each assessment carries when its submission's previous
-- attempt was decided (`prev_at`, none for the first decision). A submission is counted once in
-- a period's pass rate, at its first decision in the period: the one whose previous decision
-- came before the period. So the pass rate is summed over the period's assessments from the
-- covering index alone, instead of grouping them by submission. (A pass ends a submission, so
-- each submission has one pass at most.)
-- Kept in step with ../sqlite/0025_insight_previous.sql.
ALTER TABLE assessments ADD COLUMN prev_at BIGINT;

UPDATE assessments a SET prev_at = p.prev_at
FROM (SELECT id, MAX(created_at) OVER (PARTITION BY submission_id ORDER BY attempt ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_at
      FROM assessments) p
WHERE p.id = a.id AND p.prev_at IS NOT NULL;

CREATE OR REPLACE FUNCTION set_assessment_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT s.organisation_id, s.achievement_id INTO NEW.organisation_id, NEW.achievement_id FROM submissions s WHERE s.id = NEW.submission_id;
    SELECT t.submitted_at, t.due_at INTO NEW.submitted_at, NEW.due_at FROM submission_attempts t
    WHERE t.submission_id = NEW.submission_id AND t.attempt = NEW.attempt;
    SELECT MAX(a.created_at) INTO NEW.prev_at FROM assessments a WHERE a.submission_id = NEW.submission_id AND a.attempt < NEW.attempt;
    RETURN NEW;
END;
$$;

DROP INDEX assessments_insight;
CREATE INDEX assessments_insight ON assessments (organisation_id, created_at, achievement_id, attempt, outcome, assessor_id, submission_id, submitted_at, due_at, prev_at);
