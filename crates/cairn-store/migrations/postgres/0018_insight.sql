-- Issuer insight and inter-rater agreement. An issuer samples a share of judgements for a second,
-- blind scoring (issuer_settings.sampling_percent); a sampled judgement is held, with both
-- scorings and, when they disagree, the moderator's decision (sampled_judgements), and each
-- criterion's pair of levels is kept for the agreement report (sampled_scores). Award use —
-- page views, shares, verifications — is counted in one row per award and day (award_use).
-- Kept in step with ../sqlite/0018_insight.sql.
ALTER TABLE issuer_settings ADD COLUMN sampling_percent BIGINT NOT NULL DEFAULT 0;

CREATE TABLE sampled_judgements (
    submission_id TEXT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    attempt BIGINT NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    achievement_id TEXT NOT NULL REFERENCES achievements (id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('second', 'moderation', 'agreed', 'moderated')),
    first_assessor_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    first_scores_json TEXT NOT NULL,
    first_feedback TEXT NOT NULL,
    first_outcome TEXT NOT NULL CHECK (first_outcome IN ('pass', 'not_yet')),
    first_at BIGINT NOT NULL,
    second_assessor_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    second_scores_json TEXT,
    second_feedback TEXT,
    second_outcome TEXT CHECK (second_outcome IN ('pass', 'not_yet')),
    second_at BIGINT,
    moderator_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    moderated_outcome TEXT CHECK (moderated_outcome IN ('pass', 'not_yet')),
    moderated_at BIGINT,
    PRIMARY KEY (submission_id, attempt)
);
-- The moderation queue: an issuer's judgements waiting for a moderator.
CREATE INDEX sampled_judgements_organisation ON sampled_judgements (organisation_id, state);

CREATE TABLE sampled_scores (
    submission_id TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    criterion TEXT NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    achievement_id TEXT NOT NULL REFERENCES achievements (id) ON DELETE CASCADE,
    first_level BIGINT NOT NULL,
    second_level BIGINT NOT NULL,
    scored_at BIGINT NOT NULL,
    PRIMARY KEY (submission_id, attempt, criterion),
    FOREIGN KEY (submission_id, attempt) REFERENCES sampled_judgements (submission_id, attempt) ON DELETE CASCADE
);
-- The agreement report counts pairs of levels per criterion over a period.
CREATE INDEX sampled_scores_organisation ON sampled_scores (organisation_id, scored_at);

CREATE TABLE award_use (
    award_id TEXT NOT NULL REFERENCES awards (id) ON DELETE CASCADE,
    day BIGINT NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    achievement_id TEXT NOT NULL REFERENCES achievements (id) ON DELETE CASCADE,
    views BIGINT NOT NULL,
    shares BIGINT NOT NULL,
    verifications BIGINT NOT NULL,
    PRIMARY KEY (award_id, day)
);
CREATE INDEX award_use_organisation ON award_use (organisation_id, day);

-- Insight reads an issuer's decisions by the time they were made.
CREATE INDEX assessments_created ON assessments (created_at);
