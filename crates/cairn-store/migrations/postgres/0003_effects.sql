-- The outbox of side effects: what must happen after a state change (award a pass, stack level
-- badges into their micro-credential, tell someone), written in the same transaction as the
-- change and run afterwards, with retries, by the job runner. Kept in step with
-- ../sqlite/0003_effects.sql.
--
-- kind is the effect's kind (award_passed, stack, notify) and payload its JSON. A runner claims a
-- due effect with a conditional update (attempts + 1, claimed_at, next_attempt_at pushed to the
-- end of its lease); it is then completed (done_at), rescheduled (next_attempt_at, last_error)
-- or, after the last attempt, given up (failed_at).
CREATE TABLE effects (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    claimed_at BIGINT,
    done_at BIGINT,
    failed_at BIGINT,
    last_error TEXT
);
CREATE INDEX effects_pending ON effects (next_attempt_at, created_at) WHERE done_at IS NULL AND failed_at IS NULL;
