-- Discovery with the learner in control. A learner may choose a handle (their public portfolio
-- at /u/{handle}), whether employers may find them, and whether the portfolio lists their
-- verified imported badges. Organisations are issuers or employers. Employers' searches, views,
-- shortlists and contact requests are kept, so the learner sees who looked at them.
-- award_results holds each award's rubric results as rows (also in awards.results_json, for
-- display) so that a search by the level reached on a criterion is an indexed lookup.
-- Kept in step with ../postgres/0017_discovery.sql.
ALTER TABLE users ADD COLUMN handle TEXT;
ALTER TABLE users ADD COLUMN discoverable BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN show_imports BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX users_handle ON users (handle);
CREATE INDEX users_discoverable ON users (discoverable) WHERE discoverable = 1;

ALTER TABLE organisations ADD COLUMN kind TEXT NOT NULL DEFAULT 'issuer' CHECK (kind IN ('issuer', 'employer'));

CREATE TABLE award_results (
    award_id TEXT NOT NULL REFERENCES awards (id) ON DELETE CASCADE,
    achievement_id TEXT NOT NULL,
    criterion TEXT NOT NULL,
    level BIGINT NOT NULL,
    PRIMARY KEY (award_id, criterion)
);
CREATE INDEX award_results_level ON award_results (achievement_id, criterion, level);

INSERT INTO award_results (award_id, achievement_id, criterion, level)
SELECT a.id, a.achievement_id, json_extract(r.value, '$.criterion'), json_extract(r.value, '$.level')
FROM awards a, json_each(a.results_json) r
WHERE json_valid(a.results_json) AND json_type(a.results_json) = 'array'
  AND json_type(r.value, '$.criterion') = 'text' AND json_type(r.value, '$.level') = 'integer'
ON CONFLICT DO NOTHING;

CREATE INDEX awards_listed ON awards (learner_id, issued_at) WHERE privacy = 'public' AND status = 'active' AND renewed_by IS NULL;

CREATE TABLE shortlist_entries (
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    learner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (organisation_id, learner_id)
);

CREATE TABLE contact_requests (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    learner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    requested_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    message TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'declined')),
    created_at BIGINT NOT NULL,
    decided_at BIGINT
);
CREATE INDEX contact_requests_learner ON contact_requests (learner_id, created_at);
CREATE INDEX contact_requests_organisation ON contact_requests (organisation_id, created_at);
CREATE UNIQUE INDEX contact_requests_open ON contact_requests (organisation_id, learner_id) WHERE status = 'pending';

CREATE TABLE talent_events (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    viewer_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    learner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('search', 'view', 'shortlist', 'contact')),
    created_at BIGINT NOT NULL
);
CREATE INDEX talent_events_learner ON talent_events (learner_id, created_at);
