-- Webhooks: an organisation's endpoints (the address, the events it wants, its signing secret
-- sealed under the master key, whether it is on), the deliveries of each event to each endpoint
-- (one per message and endpoint; the state, the attempts made, when the next is due, the runner's
-- lease, and the moment it was made to the microsecond, which orders the log), and every attempt's outcome for the delivery log. Events are written to the
-- outbox (effects) with the change that causes them; the runner fans each out into deliveries
-- here. Kept in step with ../postgres/0036_webhooks.sql.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    description TEXT NOT NULL,
    events TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    enabled BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX webhook_endpoints_organisation ON webhook_endpoints (organisation_id, created_at);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    claimed_at BIGINT,
    last_status BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    created_micros BIGINT NOT NULL,
    settled_at BIGINT,
    UNIQUE (message_id, endpoint_id)
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_micros);

CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    number BIGINT NOT NULL,
    attempted_at BIGINT NOT NULL,
    status BIGINT,
    error TEXT,
    response TEXT,
    duration_ms BIGINT NOT NULL,
    PRIMARY KEY (delivery_id, number)
);
