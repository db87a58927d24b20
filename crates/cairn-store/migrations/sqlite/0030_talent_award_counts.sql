-- Talent search at scale, fourth step. `talent_award_counts` holds how many of the findable
-- learners' listed awards (`talent_awards`, migration 0024) there are of each achievement version,
-- with its issuer. A search whose conditions are only on achievements and issuers sums these to
-- tell a narrow search from a broad one, instead of counting up to 20,000 awards. Kept by
-- triggers on `talent_awards`, row by row.
-- Kept in step with ../postgres/0030_talent_award_counts.sql.
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

CREATE TRIGGER talent_award_counts_added AFTER INSERT ON talent_awards
BEGIN
    INSERT INTO talent_award_counts (achievement_id, achievement_version, organisation_id, awards)
    VALUES (NEW.achievement_id, NEW.achievement_version, NEW.organisation_id, 1)
    ON CONFLICT (achievement_id, achievement_version) DO UPDATE SET awards = awards + 1;
END;

CREATE TRIGGER talent_award_counts_removed AFTER DELETE ON talent_awards
BEGIN
    UPDATE talent_award_counts SET awards = awards - 1
    WHERE achievement_id = OLD.achievement_id AND achievement_version = OLD.achievement_version;
END;
