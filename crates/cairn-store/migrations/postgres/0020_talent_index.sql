-- Talent search at scale. Each learner keeps when their latest listed award (public, active,
-- current) was issued and until when their longest-valid listed award is valid (year 9999 for
-- one that never expires), kept up to date by a trigger on awards. A search without an award
-- filter then walks the discoverable learners in that order instead of every listed award, and
-- results are ordered by the learner's latest listed award whatever the filter.
-- Kept in step with ../sqlite/0020_talent_index.sql.
ALTER TABLE users ADD COLUMN listed_at BIGINT;
ALTER TABLE users ADD COLUMN listed_until BIGINT;

CREATE FUNCTION refresh_listed(learner TEXT) RETURNS void LANGUAGE sql AS $$
    UPDATE users SET
        listed_at = (SELECT MAX(aw.issued_at) FROM awards aw
                     WHERE aw.learner_id = learner AND aw.privacy = 'public' AND aw.status = 'active' AND aw.renewed_by IS NULL),
        listed_until = (SELECT MAX(COALESCE(aw.valid_until, 253402300799)) FROM awards aw
                        WHERE aw.learner_id = learner AND aw.privacy = 'public' AND aw.status = 'active' AND aw.renewed_by IS NULL)
    WHERE id = learner;
$$;

UPDATE users SET
    listed_at = (SELECT MAX(aw.issued_at) FROM awards aw
                 WHERE aw.learner_id = users.id AND aw.privacy = 'public' AND aw.status = 'active' AND aw.renewed_by IS NULL),
    listed_until = (SELECT MAX(COALESCE(aw.valid_until, 253402300799)) FROM awards aw
                    WHERE aw.learner_id = users.id AND aw.privacy = 'public' AND aw.status = 'active' AND aw.renewed_by IS NULL);

CREATE INDEX users_talent ON users (listed_at) WHERE discoverable = 1 AND handle IS NOT NULL AND listed_at IS NOT NULL;
CREATE INDEX awards_listed_achievement ON awards (achievement_id, learner_id) WHERE privacy = 'public' AND status = 'active' AND renewed_by IS NULL;
CREATE INDEX awards_listed_organisation ON awards (organisation_id, learner_id) WHERE privacy = 'public' AND status = 'active' AND renewed_by IS NULL;

CREATE FUNCTION awards_listed_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM refresh_listed(OLD.learner_id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.learner_id <> OLD.learner_id) THEN
        PERFORM refresh_listed(NEW.learner_id);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER awards_listed_refresh AFTER INSERT OR DELETE OR UPDATE OF privacy, status, renewed_by, issued_at, valid_until, learner_id ON awards
    FOR EACH ROW EXECUTE FUNCTION awards_listed_refresh();
