-- Talent search at scale. Each learner keeps when their latest listed award (public, active,
-- current) was issued and until when their longest-valid listed award is valid (year 9999 for
-- one that never expires), kept up to date by triggers on awards. A search without an award
-- filter then walks the discoverable learners in that order instead of every listed award, and
-- results are ordered by the learner's latest listed award whatever the filter.
-- Kept in step with ../postgres/0020_talent_index.sql.
ALTER TABLE users ADD COLUMN listed_at BIGINT;
ALTER TABLE users ADD COLUMN listed_until BIGINT;

UPDATE users SET
    listed_at = (SELECT MAX(aw.issued_at) FROM awards aw
                 WHERE aw.learner_id = users.id AND aw.privacy = 'public' AND aw.status = 'active' AND aw.renewed_by IS NULL),
    listed_until = (SELECT MAX(COALESCE(aw.valid_until, 253402300799)) FROM awards aw
                    WHERE aw.learner_id = users.id AND aw.privacy = 'public' AND aw.status = 'active' AND aw.renewed_by IS NULL);

CREATE INDEX users_talent ON users (listed_at) WHERE discoverable = 1 AND handle IS NOT NULL AND listed_at IS NOT NULL;
CREATE INDEX awards_listed_achievement ON awards (achievement_id, learner_id) WHERE privacy = 'public' AND status = 'active' AND renewed_by IS NULL;
CREATE INDEX awards_listed_organisation ON awards (organisation_id, learner_id) WHERE privacy = 'public' AND status = 'active' AND renewed_by IS NULL;

CREATE TRIGGER awards_listed_insert AFTER INSERT ON awards
BEGIN
    UPDATE users SET
        listed_at = (SELECT MAX(aw.issued_at) FROM awards aw
                     WHERE aw.learner_id = users.id AND aw.privacy = 'public' AND aw.status = 'active' AND aw.renewed_by IS NULL),
        listed_until = (SELECT MAX(COALESCE(aw.valid_until, 253402300799)) FROM awards aw
                        WHERE aw.learner_id = users.id AND aw.privacy = 'public' AND aw.status = 'active' AND aw.renewed_by IS NULL)
    WHERE id = NEW.learner_id;
END;

CREATE TRIGGER awards_listed_update AFTER UPDATE OF privacy, status, renewed_by, issued_at, valid_until, learner_id ON awards
BEGIN
    UPDATE users SET
        listed_at = (SELECT MAX(aw.issued_at) FROM awards aw
                     WHERE aw.learner_id = users.id AND aw.privacy = 'public' AND aw.status = 'active' AND aw.renewed_by IS NULL),
        listed_until = (SELECT MAX(COALESCE(aw.valid_until, 253402300799)) FROM awards aw
                        WHERE aw.learner_id = users.id AND aw.privacy = 'public' AND aw.status = 'active' AND aw.renewed_by IS NULL)
    WHERE id IN (OLD.learner_id, NEW.learner_id);
END;

CREATE TRIGGER awards_listed_delete AFTER DELETE ON awards
BEGIN
    UPDATE users SET
        listed_at = (SELECT MAX(aw.issued_at) FROM awards aw
                     WHERE aw.learner_id = users.id AND aw.privacy = 'public' AND aw.status = 'active' AND aw.renewed_by IS NULL),
        listed_until = (SELECT MAX(COALESCE(aw.valid_until, 253402300799)) FROM awards aw
                        WHERE aw.learner_id = users.id AND aw.privacy = 'public' AND aw.status = 'active' AND aw.renewed_by IS NULL)
    WHERE id = OLD.learner_id;
END;
