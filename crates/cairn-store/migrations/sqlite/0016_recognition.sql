-- Recognition of prior learning. An issuer's equivalency rules say that an achievement from
-- elsewhere (its issuer's id and its own id, as the credential gives them) counts as one of the
-- issuer's achievements. A submission may ask for prior learning to be recognised, pointing at
-- an imported badge; an award says whether it recognises prior learning, and how.
-- Kept in step with ../postgres/0016_recognition.sql.
CREATE TABLE equivalencies (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    achievement_id TEXT NOT NULL REFERENCES achievements (id) ON DELETE CASCADE,
    external_issuer TEXT NOT NULL,
    external_achievement TEXT NOT NULL,
    note TEXT NOT NULL,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (achievement_id, external_issuer, external_achievement)
);
CREATE INDEX equivalencies_organisation ON equivalencies (organisation_id, created_at);
CREATE INDEX equivalencies_external ON equivalencies (external_issuer, external_achievement);

ALTER TABLE submissions ADD COLUMN prior_learning BIGINT NOT NULL DEFAULT 0;
ALTER TABLE submissions ADD COLUMN import_id TEXT REFERENCES imports (id) ON DELETE SET NULL;

ALTER TABLE awards ADD COLUMN recognition TEXT CHECK (recognition IN ('equivalency', 'assessed'));
