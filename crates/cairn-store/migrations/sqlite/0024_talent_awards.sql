-- Talent search at scale, second step. `talent_awards` holds the listed awards (public, active,
-- current) of the learners who can be found (discoverable, with a handle), each with its
-- learner's latest listed award (`users.listed_at`, migration 0020) to order by. A search counts
-- and pages its learners from this narrow table's indexes alone, instead of joining every
-- listed award to its learner. Kept by a trigger on users: every change to a learner's listed
-- awards sets their `listed_at` and `listed_until` (the triggers of 0020), and every such update,
-- as well as a change of handle or of discoverability, rewrites the learner's rows here.
-- Kept in step with ../postgres/0024_talent_awards.sql.
CREATE TABLE talent_awards (
    id TEXT PRIMARY KEY REFERENCES awards (id) ON DELETE CASCADE,
    learner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    achievement_id TEXT NOT NULL,
    achievement_version BIGINT NOT NULL,
    organisation_id TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    valid_until BIGINT,
    listed_at BIGINT NOT NULL
);

INSERT INTO talent_awards (id, learner_id, achievement_id, achievement_version, organisation_id, issued_at, valid_until, listed_at)
SELECT aw.id, aw.learner_id, aw.achievement_id, aw.achievement_version, aw.organisation_id, aw.issued_at, aw.valid_until, u.listed_at
FROM awards aw JOIN users u ON u.id = aw.learner_id
WHERE u.discoverable = 1 AND u.handle IS NOT NULL AND u.listed_at IS NOT NULL
  AND aw.privacy = 'public' AND aw.status = 'active' AND aw.renewed_by IS NULL;

CREATE INDEX talent_awards_achievement ON talent_awards (achievement_id, achievement_version, learner_id, listed_at, issued_at, valid_until);
CREATE INDEX talent_awards_organisation ON talent_awards (organisation_id, learner_id, listed_at, issued_at, valid_until);
CREATE INDEX talent_awards_learner ON talent_awards (learner_id);

-- Counting the findable learners with an unexpired listed award reads the index alone.
DROP INDEX users_talent;
CREATE INDEX users_talent ON users (listed_at, listed_until) WHERE discoverable = 1 AND handle IS NOT NULL AND listed_at IS NOT NULL;

CREATE TRIGGER users_talent_awards AFTER UPDATE OF listed_at, listed_until, discoverable, handle ON users
BEGIN
    DELETE FROM talent_awards WHERE learner_id = NEW.id;
    INSERT INTO talent_awards (id, learner_id, achievement_id, achievement_version, organisation_id, issued_at, valid_until, listed_at)
    SELECT aw.id, aw.learner_id, aw.achievement_id, aw.achievement_version, aw.organisation_id, aw.issued_at, aw.valid_until, NEW.listed_at
    FROM awards aw
    WHERE aw.learner_id = NEW.id AND NEW.discoverable = 1 AND NEW.handle IS NOT NULL AND NEW.listed_at IS NOT NULL
      AND aw.privacy = 'public' AND aw.status = 'active' AND aw.renewed_by IS NULL;
END;
