-- The assessment journey: issuer settings, assessor pools and conflicts, submissions with their
-- artefacts, attempts, events and assessments, duplicate flags, vouchers, awards and status lists,
-- notifications and the mail outbox. Booleans are BIGINT 0/1. Kept in step with ../postgres/0002_assessment.sql.

CREATE TABLE issuer_settings (
    organisation_id TEXT PRIMARY KEY REFERENCES organisations (id) ON DELETE CASCADE,
    service_days BIGINT NOT NULL,
    nearly_due_days BIGINT NOT NULL,
    attempt_limit BIGINT,
    confirm_passes BIGINT NOT NULL,
    holidays_json TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE assessor_pools (
    achievement_id TEXT NOT NULL REFERENCES achievements (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (achievement_id, user_id)
);
CREATE INDEX assessor_pools_user ON assessor_pools (user_id);

-- An assessor's declared conflict of interest with a learner.
CREATE TABLE assessor_conflicts (
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    assessor_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    learner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (organisation_id, assessor_id, learner_id)
);

CREATE TABLE submissions (
    id TEXT PRIMARY KEY,
    achievement_id TEXT NOT NULL REFERENCES achievements (id) ON DELETE CASCADE,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    learner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'in_review', 'passed', 'not_yet', 'resubmitted', 'withdrawn', 'awarded')),
    attempt BIGINT NOT NULL,
    overview TEXT NOT NULL,
    reflection TEXT NOT NULL,
    links_json TEXT NOT NULL,
    fee_state TEXT NOT NULL CHECK (fee_state IN ('none', 'due', 'paid', 'waived', 'voucher')),
    voucher_code TEXT,
    assessor_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    submitted_at BIGINT,
    due_at BIGINT,
    escalated_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- One live submission per learner and achievement (a withdrawn one may be followed by another).
CREATE UNIQUE INDEX submissions_live ON submissions (learner_id, achievement_id) WHERE status <> 'withdrawn';
CREATE INDEX submissions_assessor ON submissions (assessor_id, status);
CREATE INDEX submissions_achievement ON submissions (achievement_id, status);
CREATE INDEX submissions_organisation ON submissions (organisation_id, status);

CREATE TABLE submission_collaborators (
    submission_id TEXT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    position BIGINT NOT NULL,
    reflection TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (submission_id, email)
);
CREATE INDEX submission_collaborators_email ON submission_collaborators (email);

-- Evidence files and texts, in the order added (position). Files keep their original name for the learner only.
CREATE TABLE artifacts (
    id TEXT PRIMARY KEY,
    submission_id TEXT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('file', 'text')),
    title TEXT NOT NULL,
    body TEXT,
    blob_key TEXT,
    media_type TEXT,
    size_bytes BIGINT,
    sha256 TEXT,
    original_name TEXT,
    position BIGINT NOT NULL,
    added_in_attempt BIGINT NOT NULL,
    removed_in_attempt BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX artifacts_submission ON artifacts (submission_id);
CREATE INDEX artifacts_sha256 ON artifacts (sha256);

-- What each attempt contained when it was sent, for the assessor's "what changed".
CREATE TABLE submission_attempts (
    submission_id TEXT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    attempt BIGINT NOT NULL,
    overview TEXT NOT NULL,
    reflection TEXT NOT NULL,
    links_json TEXT NOT NULL,
    artifacts_json TEXT NOT NULL,
    submitted_at BIGINT NOT NULL,
    due_at BIGINT NOT NULL,
    assessor_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    PRIMARY KEY (submission_id, attempt)
);

-- The audit trail: every status change with its actor and time.
CREATE TABLE submission_events (
    id TEXT PRIMARY KEY,
    submission_id TEXT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    organisation_id TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    actor_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    note TEXT NOT NULL,
    at BIGINT NOT NULL,
    seq BIGINT NOT NULL
);
CREATE INDEX submission_events_submission ON submission_events (submission_id, seq);
CREATE INDEX submission_events_organisation ON submission_events (organisation_id, at);

CREATE TABLE assessments (
    id TEXT PRIMARY KEY,
    submission_id TEXT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    attempt BIGINT NOT NULL,
    assessor_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    scores_json TEXT NOT NULL,
    feedback TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('pass', 'not_yet')),
    created_at BIGINT NOT NULL,
    confirmed_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    confirmed_at BIGINT,
    UNIQUE (submission_id, attempt)
);

CREATE TABLE duplicate_flags (
    submission_id TEXT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    other_submission_id TEXT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('file', 'text', 'reflection')),
    similarity DOUBLE PRECISION NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (submission_id, other_submission_id, kind)
);

CREATE TABLE vouchers (
    code TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    achievement_id TEXT REFERENCES achievements (id) ON DELETE CASCADE,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    redeemed_by_submission TEXT REFERENCES submissions (id) ON DELETE SET NULL,
    redeemed_at BIGINT
);
CREATE INDEX vouchers_organisation ON vouchers (organisation_id);

-- One Bitstring Status List per issuer and purpose; an award's index is the same in both lists.
CREATE TABLE status_lists (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('revocation', 'suspension')),
    length BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (organisation_id, purpose)
);

CREATE TABLE awards (
    id TEXT PRIMARY KEY,
    achievement_id TEXT NOT NULL REFERENCES achievements (id) ON DELETE CASCADE,
    achievement_version BIGINT NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    learner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    submission_id TEXT UNIQUE REFERENCES submissions (id) ON DELETE SET NULL,
    issued_at BIGINT NOT NULL,
    valid_until BIGINT,
    status TEXT NOT NULL CHECK (status IN ('active', 'revoked', 'suspended')),
    status_reason TEXT,
    status_changed_at BIGINT,
    privacy TEXT NOT NULL CHECK (privacy IN ('public', 'unlisted', 'private')),
    evidence_public BIGINT NOT NULL,
    status_index BIGINT NOT NULL,
    recipient_salt TEXT NOT NULL,
    results_json TEXT NOT NULL,
    credential_json TEXT NOT NULL,
    jwt TEXT NOT NULL,
    ob2_json TEXT NOT NULL,
    png_key TEXT NOT NULL,
    svg_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (learner_id, achievement_id),
    UNIQUE (organisation_id, status_index)
);
CREATE INDEX awards_learner ON awards (learner_id);

CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    link TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX notifications_user ON notifications (user_id, created_at);

-- Mail waiting to be sent (or kept for the operator when no SMTP server is configured).
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    to_email TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    attempts BIGINT NOT NULL,
    last_error TEXT
);
CREATE INDEX outbox_pending ON outbox (sent_at, created_at);
