-- Issuer insight at scale, sixth step. `decision_days` holds an issuer's decisions per day decided,
-- assessor and day sent (the groups the times to decision are computed from), with the counts
-- behind the pass rates; `revision_days` counts the decisions whose submission's previous
-- attempt was decided before, per day of that previous decision and day of this one. A period's
-- submissions decided (each once, at its first decision in the period) are its decisions less
-- those whose previous decision is in the period too. Triggers on `assessments` keep both, as
-- decisions are made and as an account's deletion takes its submissions away. Over all of an
-- issuer's achievements, insight reads these; limited to one, the assessments themselves.
-- Kept in step with ../sqlite/0029_insight_decision_days.sql.
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

-- The assessment's organisation, times and previous decision are set before the row is written
-- (`set_assessment_owner`).
CREATE FUNCTION count_decision_day() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    delta BIGINT := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END;
    a assessments%ROWTYPE;
BEGIN
    IF TG_OP = 'INSERT' THEN a := NEW; ELSE a := OLD; END IF;
    IF a.organisation_id IS NULL OR a.submitted_at IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO decision_days (organisation_id, decided_day, assessor_id, sent_day, decisions, late, first_decided, first_passed, passed)
    VALUES (a.organisation_id, a.created_at / 86400, COALESCE(a.assessor_id, ''), a.submitted_at / 86400, delta,
            delta * CASE WHEN a.created_at > a.due_at THEN 1 ELSE 0 END, delta * CASE WHEN a.attempt = 1 THEN 1 ELSE 0 END,
            delta * CASE WHEN a.attempt = 1 AND a.outcome = 'pass' THEN 1 ELSE 0 END, delta * CASE WHEN a.outcome = 'pass' THEN 1 ELSE 0 END)
    ON CONFLICT (organisation_id, decided_day, assessor_id, sent_day) DO UPDATE SET decisions = decision_days.decisions + excluded.decisions,
        late = decision_days.late + excluded.late, first_decided = decision_days.first_decided + excluded.first_decided,
        first_passed = decision_days.first_passed + excluded.first_passed, passed = decision_days.passed + excluded.passed;
    IF a.prev_at IS NOT NULL THEN
        INSERT INTO revision_days (organisation_id, prev_day, decided_day, decisions)
        VALUES (a.organisation_id, a.prev_at / 86400, a.created_at / 86400, delta)
        ON CONFLICT (organisation_id, prev_day, decided_day) DO UPDATE SET decisions = revision_days.decisions + excluded.decisions;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER assessments_days AFTER INSERT OR DELETE ON assessments FOR EACH ROW EXECUTE FUNCTION count_decision_day();
