-- Talent search at scale, fourth step. `talent_award_counts` holds how many of the findable
-- learners' listed awards (`talent_awards`, migration 0024) there are of each achievement version,
-- with its issuer. A search whose conditions are only on achievements and issuers sums these to
-- tell a narrow search from a broad one, instead of counting up to 20,000 awards. Kept by
-- statement triggers on `talent_awards`, which add each statement's rows per achievement version
-- in one ordered upsert (so that two transactions take the rows' locks in the same order).
-- Kept in step with ../sqlite/0030_talent_award_counts.sql.
CREATE TABLE talent_award_counts (
    achievement_id TEXT NOT NULL,
    achievement_version BIGINT NOT NULL,
    organisation_id TEXT NOT NULL,
    awards BIGINT NOT NULL,
    PRIMARY KEY (achievement_id, achievement_version)
);

INSERT INTO talent_award_counts (achievement_id, achievement_version, organisation_id, awards)
SELECT achievement_id, achievement_version, MIN(organisation_id), COUNT(*) FROM talent_awards
GROUP BY achievement_id, achievement_version;

CREATE FUNCTION talent_award_counts_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO talent_award_counts AS c (achievement_id, achievement_version, organisation_id, awards)
    SELECT achievement_id, achievement_version, MIN(organisation_id), COUNT(*) FROM added
    GROUP BY achievement_id, achievement_version ORDER BY achievement_id, achievement_version
    ON CONFLICT (achievement_id, achievement_version) DO UPDATE SET awards = c.awards + EXCLUDED.awards;
    RETURN NULL;
END;
$$;

CREATE FUNCTION talent_award_counts_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO talent_award_counts AS c (achievement_id, achievement_version, organisation_id, awards)
    SELECT achievement_id, achievement_version, MIN(organisation_id), -COUNT(*) FROM removed
    GROUP BY achievement_id, achievement_version ORDER BY achievement_id, achievement_version
    ON CONFLICT (achievement_id, achievement_version) DO UPDATE SET awards = c.awards + EXCLUDED.awards;
    RETURN NULL;
END;
$$;

CREATE TRIGGER talent_award_counts_added AFTER INSERT ON talent_awards
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION talent_award_counts_added();
CREATE TRIGGER talent_award_counts_removed AFTER DELETE ON talent_awards
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION talent_award_counts_removed();
