-- Stacks done right and certificates. Kept in step with ../postgres/0011_stacks.sql.

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

-- A third kind of achievement, `certificate`. SQLite cannot alter a CHECK constraint, and
-- rebuilding `achievements` would cascade its deletion into every table that refers to it, so
-- the constraint's text is changed in the schema table: the procedure SQLite documents for
-- loosening a CHECK constraint ("Making Other Kinds Of Table Schema Changes"), which touches no
-- stored row. It comes after the ALTER TABLE statements, which rewrite the table's text from the
-- schema as this connection parsed it; the CREATE TABLE below changes the schema cookie, so every
-- other connection reads the new schema, and the migrating connection is closed afterwards.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql, 'CHECK (kind IN (''micro-badge'', ''micro-credential'', ''level''))',
                          'CHECK (kind IN (''micro-badge'', ''micro-credential'', ''level'', ''certificate''))')
 WHERE type = 'table' AND name = 'achievements';
PRAGMA writable_schema = OFF;

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
