-- Issuer insight at scale, fourth step. `award_use_days` adds up the use of an issuer's awards
-- (views, shares, verifications) per day, kept by the same statement that counts each use in
-- `award_use`: a period's totals over all the issuer's achievements are read from one row a
-- day, instead of one row per award and day. Limited to one achievement, insight still reads
-- `award_use`, by an index that leads with it. Each assessor's open submissions are counted
-- from an index of the issuer's submissions that holds their status and assessor.
-- Kept in step with ../postgres/0027_insight_use_days.sql.
CREATE TABLE award_use_days (
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    day BIGINT NOT NULL,
    views BIGINT NOT NULL,
    shares BIGINT NOT NULL,
    verifications BIGINT NOT NULL,
    PRIMARY KEY (organisation_id, day)
);

INSERT INTO award_use_days (organisation_id, day, views, shares, verifications)
SELECT organisation_id, day, SUM(views), SUM(shares), SUM(verifications) FROM award_use GROUP BY organisation_id, day;

DROP INDEX award_use_organisation;
CREATE INDEX award_use_organisation ON award_use (organisation_id, achievement_id, day, views, shares, verifications);

DROP INDEX submissions_organisation;
CREATE INDEX submissions_organisation ON submissions (organisation_id, status, assessor_id, achievement_id);
