-- Talent search at scale, third step: a broad search walks the findable learners and checks each
-- one's listed awards for a match. This index holds every column the check reads, so that it is
-- answered from the index alone, learner by learner.
-- Kept in step with ../postgres/0026_talent_learner_covering.sql.
DROP INDEX talent_awards_learner;
CREATE INDEX talent_awards_learner ON talent_awards (learner_id, achievement_id, achievement_version, organisation_id, issued_at, valid_until);
