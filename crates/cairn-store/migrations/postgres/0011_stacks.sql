-- Stacks done right and certificates. Kept in step with ../sqlite/0011_stacks.sql.

-- A third kind of achievement, `certificate`.
ALTER TABLE achievements DROP CONSTRAINT achievements_kind_check;
ALTER TABLE achievements ADD CONSTRAINT achievements_kind_check CHECK (kind IN ('micro-badge', 'micro-credential', 'level', 'certificate'));

-- The issuer's option: a micro-credential's levels may be taken in any order (by default each
-- level needs the ones before it).
ALTER TABLE achievements ADD COLUMN levels_in_any_order BIGINT NOT NULL DEFAULT 0;

-- A certificate's rule: all of its components, n of them, or a minimum of credit hours
-- (in hundredths).
ALTER TABLE achievements ADD COLUMN rule TEXT CHECK (rule IN ('all', 'n_of', 'min_credits'));
ALTER TABLE achievements ADD COLUMN rule_n BIGINT;
ALTER TABLE achievements ADD COLUMN rule_min_credits BIGINT;

-- Credit hours an achievement carries, in hundredths (OB 3.0 creditsAvailable).
ALTER TABLE achievement_versions ADD COLUMN credits_hundredths BIGINT;

-- Achievements made of other achievements: a certificate's components, and the existing
-- micro-badges a micro-credential uses as its levels, in order. A component of another
-- organisation counts once an owner of that organisation agreed (agreed_at); until then the
-- parent cannot be published.
CREATE TABLE achievement_components (
    parent_id TEXT NOT NULL REFERENCES achievements (id) ON DELETE CASCADE,
    child_id TEXT NOT NULL REFERENCES achievements (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    requested_at BIGINT NOT NULL,
    agreed_at BIGINT,
    agreed_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    PRIMARY KEY (parent_id, child_id)
);
CREATE INDEX achievement_components_child ON achievement_components (child_id);
