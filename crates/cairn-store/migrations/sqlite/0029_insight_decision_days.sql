-- Issuer insight at scale, sixth step. `decision_days` holds an issuer's decisions per day decided,
-- assessor and day sent (the groups the times to decision are computed from), with the counts
-- behind the pass rates; `revision_days` counts the decisions whose submission's previous
-- attempt was decided before, per day of that previous decision and day of this one. A period's
-- submissions decided (each once, at its first decision in the period) are its decisions less
-- those whose previous decision is in the period too. Triggers on `assessments` keep both, as
-- decisions are made and as an account's deletion takes its submissions away. Over all of an
-- issuer's achievements, insight reads these; limited to one, the assessments themselves.
-- Kept in step with ../postgres/0029_insight_decision_days.sql.
CREATE TABLE decision_days (
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    decided_day BIGINT NOT NULL,
    assessor_id TEXT NOT NULL,
    sent_day BIGINT NOT NULL,
    decisions BIGINT NOT NULL,
    late BIGINT NOT NULL,
    first_decided BIGINT NOT NULL,
    first_passed BIGINT NOT NULL,
    passed BIGINT NOT NULL,
    PRIMARY KEY (organisation_id, decided_day, assessor_id, sent_day)
);

CREATE TABLE revision_days (
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    prev_day BIGINT NOT NULL,
    decided_day BIGINT NOT NULL,
    decisions BIGINT NOT NULL,
    PRIMARY KEY (organisation_id, prev_day, decided_day)
);

INSERT INTO decision_days (organisation_id, decided_day, assessor_id, sent_day, decisions, late, first_decided, first_passed, passed)
SELECT organisation_id, created_at / 86400, COALESCE(assessor_id, ''), submitted_at / 86400, COUNT(*),
       SUM(CASE WHEN created_at > due_at THEN 1 ELSE 0 END), SUM(CASE WHEN attempt = 1 THEN 1 ELSE 0 END),
       SUM(CASE WHEN attempt = 1 AND outcome = 'pass' THEN 1 ELSE 0 END), SUM(CASE WHEN outcome = 'pass' THEN 1 ELSE 0 END)
FROM assessments WHERE organisation_id IS NOT NULL AND submitted_at IS NOT NULL
GROUP BY organisation_id, created_at / 86400, COALESCE(assessor_id, ''), submitted_at / 86400;

INSERT INTO revision_days (organisation_id, prev_day, decided_day, decisions)
SELECT organisation_id, prev_at / 86400, created_at / 86400, COUNT(*) FROM assessments
WHERE organisation_id IS NOT NULL AND prev_at IS NOT NULL
GROUP BY organisation_id, prev_at / 86400, created_at / 86400;

-- The assessment's organisation, times and previous decision are read from where the
-- `assessments_owner` trigger copies them from (it may run after this one).
CREATE TRIGGER assessments_days AFTER INSERT ON assessments
BEGIN
    INSERT INTO decision_days (organisation_id, decided_day, assessor_id, sent_day, decisions, late, first_decided, first_passed, passed)
    SELECT s.organisation_id, NEW.created_at / 86400, COALESCE(NEW.assessor_id, ''), t.submitted_at / 86400, 1,
           CASE WHEN NEW.created_at > t.due_at THEN 1 ELSE 0 END, CASE WHEN NEW.attempt = 1 THEN 1 ELSE 0 END,
           CASE WHEN NEW.attempt = 1 AND NEW.outcome = 'pass' THEN 1 ELSE 0 END, CASE WHEN NEW.outcome = 'pass' THEN 1 ELSE 0 END
    FROM submissions s JOIN submission_attempts t ON t.submission_id = s.id AND t.attempt = NEW.attempt
    WHERE s.id = NEW.submission_id AND s.organisation_id IS NOT NULL AND t.submitted_at IS NOT NULL
    ON CONFLICT (organisation_id, decided_day, assessor_id, sent_day) DO UPDATE SET decisions = decision_days.decisions + excluded.decisions,
        late = decision_days.late + excluded.late, first_decided = decision_days.first_decided + excluded.first_decided,
        first_passed = decision_days.first_passed + excluded.first_passed, passed = decision_days.passed + excluded.passed;
    INSERT INTO revision_days (organisation_id, prev_day, decided_day, decisions)
    SELECT s.organisation_id, p.prev_at / 86400, NEW.created_at / 86400, 1
    FROM submissions s, (SELECT MAX(a.created_at) AS prev_at FROM assessments a WHERE a.submission_id = NEW.submission_id AND a.attempt < NEW.attempt) p
    WHERE s.id = NEW.submission_id AND s.organisation_id IS NOT NULL AND p.prev_at IS NOT NULL
    ON CONFLICT (organisation_id, prev_day, decided_day) DO UPDATE SET decisions = revision_days.decisions + 1;
END;

CREATE TRIGGER assessments_days_gone AFTER DELETE ON assessments WHEN OLD.organisation_id IS NOT NULL AND OLD.submitted_at IS NOT NULL
BEGIN
    UPDATE decision_days SET decisions = decisions - 1, late = late - CASE WHEN OLD.created_at > OLD.due_at THEN 1 ELSE 0 END,
        first_decided = first_decided - CASE WHEN OLD.attempt = 1 THEN 1 ELSE 0 END,
        first_passed = first_passed - CASE WHEN OLD.attempt = 1 AND OLD.outcome = 'pass' THEN 1 ELSE 0 END,
        passed = passed - CASE WHEN OLD.outcome = 'pass' THEN 1 ELSE 0 END
    WHERE organisation_id = OLD.organisation_id AND decided_day = OLD.created_at / 86400 AND assessor_id = COALESCE(OLD.assessor_id, '')
      AND sent_day = OLD.submitted_at / 86400;
    UPDATE revision_days SET decisions = decisions - 1
    WHERE OLD.prev_at IS NOT NULL AND organisation_id = OLD.organisation_id AND prev_day = OLD.prev_at / 86400 AND decided_day = OLD.created_at / 86400;
END;
