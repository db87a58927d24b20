-- Issuer insight at scale, fifth step. `insight_days` holds an issuer's daily totals: attempts
-- sent (first attempts and revisions), awards issued, and the use of its awards (views, shares,
-- verifications, before in `award_use_days`). Triggers keep the attempts and awards counts as
-- rows come and go (an account's deletion takes its submissions with it); award use is added by
-- the statement that counts it in `award_use`. A period's figures over all the issuer's
-- achievements are read from one row a day, instead of one row per attempt or award. Limited to
-- one achievement, insight still reads the attempts and awards themselves.
-- Kept in step with ../postgres/0028_insight_days.sql.
CREATE TABLE insight_days (
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    day BIGINT NOT NULL,
    first_attempts BIGINT NOT NULL,
    revisions BIGINT NOT NULL,
    issued BIGINT NOT NULL,
    views BIGINT NOT NULL,
    shares BIGINT NOT NULL,
    verifications BIGINT NOT NULL,
    PRIMARY KEY (organisation_id, day)
);

INSERT INTO insight_days (organisation_id, day, first_attempts, revisions, issued, views, shares, verifications)
SELECT organisation_id, day, SUM(first_attempts), SUM(revisions), SUM(issued), SUM(views), SUM(shares), SUM(verifications) FROM (
    SELECT organisation_id, submitted_at / 86400 AS day, CASE WHEN attempt = 1 THEN 1 ELSE 0 END AS first_attempts,
           CASE WHEN attempt > 1 THEN 1 ELSE 0 END AS revisions, 0 AS issued, 0 AS views, 0 AS shares, 0 AS verifications
    FROM submission_attempts WHERE organisation_id IS NOT NULL
    UNION ALL
    SELECT organisation_id, issued_at / 86400, 0, 0, 1, 0, 0, 0 FROM awards
    UNION ALL
    SELECT organisation_id, day, 0, 0, 0, views, shares, verifications FROM award_use_days
) d GROUP BY organisation_id, day;

DROP TABLE award_use_days;

-- The attempt's organisation is its submission's (the `submission_attempts_owner` trigger copies
-- it into the row after this one may have run).
CREATE TRIGGER submission_attempts_days AFTER INSERT ON submission_attempts
BEGIN
    INSERT INTO insight_days (organisation_id, day, first_attempts, revisions, issued, views, shares, verifications)
    SELECT s.organisation_id, NEW.submitted_at / 86400, CASE WHEN NEW.attempt = 1 THEN 1 ELSE 0 END,
           CASE WHEN NEW.attempt > 1 THEN 1 ELSE 0 END, 0, 0, 0, 0
    FROM submissions s WHERE s.id = NEW.submission_id AND s.organisation_id IS NOT NULL
    ON CONFLICT (organisation_id, day) DO UPDATE SET first_attempts = insight_days.first_attempts + excluded.first_attempts,
        revisions = insight_days.revisions + excluded.revisions;
END;

CREATE TRIGGER submission_attempts_days_gone AFTER DELETE ON submission_attempts
BEGIN
    UPDATE insight_days SET first_attempts = first_attempts - CASE WHEN OLD.attempt = 1 THEN 1 ELSE 0 END,
        revisions = revisions - CASE WHEN OLD.attempt > 1 THEN 1 ELSE 0 END
    WHERE organisation_id = OLD.organisation_id AND day = OLD.submitted_at / 86400;
END;

CREATE TRIGGER awards_days AFTER INSERT ON awards
BEGIN
    INSERT INTO insight_days (organisation_id, day, first_attempts, revisions, issued, views, shares, verifications)
    VALUES (NEW.organisation_id, NEW.issued_at / 86400, 0, 0, 1, 0, 0, 0)
    ON CONFLICT (organisation_id, day) DO UPDATE SET issued = insight_days.issued + 1;
END;

CREATE TRIGGER awards_days_gone AFTER DELETE ON awards
BEGIN
    UPDATE insight_days SET issued = issued - 1 WHERE organisation_id = OLD.organisation_id AND day = OLD.issued_at / 86400;
END;
