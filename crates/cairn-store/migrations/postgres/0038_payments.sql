-- Assessment fees paid online through each issuer's own Stripe account. An organisation's
-- connection keeps the Stripe account's id and name and the two secrets its owner gave (the API
-- key and the webhook endpoint's signing secret), sealed under the master key. Each Checkout
-- Session made for a submission is a payment: its amount and currency, where it stands (open,
-- paid, expired, refunded, refund_failed), whether the submission is sent once paid, and the
-- PaymentIntent and refund Stripe reports. Each webhook event is recorded by its id, so an event
-- Stripe sends again is taken once. Kept in step with ../sqlite/0038_payments.sql.
CREATE TABLE stripe_accounts (
    organisation_id TEXT PRIMARY KEY REFERENCES organisations (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    livemode BIGINT NOT NULL,
    secret_key_sealed TEXT NOT NULL,
    webhook_secret_sealed TEXT NOT NULL,
    connected_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    connected_at BIGINT NOT NULL
);

CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    submission_id TEXT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    session_id TEXT NOT NULL UNIQUE,
    checkout_url TEXT,
    payment_intent TEXT,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    send_when_paid BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    paid_at BIGINT,
    refund_id TEXT,
    refunded_at BIGINT
);

CREATE INDEX payments_submission ON payments (submission_id, created_at);
CREATE INDEX payments_intent ON payments (payment_intent);

CREATE TABLE stripe_events (
    event_id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
