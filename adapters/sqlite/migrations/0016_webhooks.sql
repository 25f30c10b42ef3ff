-- Webhook endpoints of the clients, and the delivery log: one row per
-- event and endpoint (its id is made of both, so an event is enqueued once
-- per endpoint), with how sending it went.
CREATE TABLE webhook_endpoints (
    client        TEXT    NOT NULL,
    id            TEXT    NOT NULL,
    url           TEXT    NOT NULL,
    events        TEXT    NOT NULL, -- JSON array of event types
    secret        TEXT    NOT NULL,
    expiring_days INTEGER NOT NULL,
    active        INTEGER NOT NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    PRIMARY KEY (client, id)
) WITHOUT ROWID;

CREATE TABLE webhook_deliveries (
    id              TEXT    NOT NULL PRIMARY KEY,
    client          TEXT    NOT NULL,
    endpoint_id     TEXT    NOT NULL,
    event_id        TEXT    NOT NULL,
    event_type      TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at TEXT    NOT NULL,
    last_attempt_at TEXT    NOT NULL,
    last_status     INTEGER NOT NULL,
    last_error      TEXT    NOT NULL,
    replays         INTEGER NOT NULL,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    version         INTEGER NOT NULL
) WITHOUT ROWID;
-- The log, newest first: of a client, and of one of its endpoints.
CREATE INDEX webhook_deliveries_by_client ON webhook_deliveries (client, created_at, id);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (client, endpoint_id, created_at, id);
-- The worker's queue: only pending deliveries, by when they are due.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE status = 'pending';
