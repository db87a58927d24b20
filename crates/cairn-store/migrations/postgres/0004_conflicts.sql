-- Conflicts of interest declared by e-mail address, kept as a keyed fingerprint of the address
-- (HMAC-SHA256 under a key derived from the master key, see seal.rs) and matched when a
-- submission is assigned: declaring one neither needs an account for the address nor tells the
-- assessor whether there is one. Declarations made before this migration stay in
-- assessor_conflicts (by account) and are still honoured; that table is no longer written.
-- Kept in step with ../sqlite/0004_conflicts.sql.

CREATE TABLE conflict_declarations (
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    assessor_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email_fingerprint TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (organisation_id, assessor_id, email_fingerprint)
);
CREATE INDEX conflict_declarations_fingerprint ON conflict_declarations (organisation_id, email_fingerprint);
