-- The points ledger: one row per event, append-only. position orders all
-- events of all accounts (projections read from a position); (account, seq)
-- is the optimistic-concurrency guard of one account's stream.
CREATE TABLE ledger_events (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    account     TEXT    NOT NULL,
    seq         INTEGER NOT NULL CHECK (seq > 0),
    id          TEXT    NOT NULL UNIQUE,
    type        TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    data        TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    UNIQUE (account, seq)
);

-- Results of commands sent with an idempotency key, written in the same
-- transaction as their events.
CREATE TABLE idempotency_keys (
    key         TEXT PRIMARY KEY,
    account     TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    result      TEXT NOT NULL,
    created_at  TEXT NOT NULL
) WITHOUT ROWID;

-- Transactional outbox: messages written with the change they announce,
-- delivered at least once to each subscriber in id order.
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    topic      TEXT NOT NULL,
    key        TEXT NOT NULL,
    payload    BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX outbox_topic ON outbox (topic, id);

-- How far each subscriber has consumed the outbox.
CREATE TABLE outbox_cursors (
    subscriber TEXT PRIMARY KEY,
    position   INTEGER NOT NULL
) WITHOUT ROWID;

-- Messages a subscriber gave up on after its retries, kept for an operator.
CREATE TABLE outbox_dead (
    subscriber TEXT    NOT NULL,
    message_id INTEGER NOT NULL,
    topic      TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    payload    BLOB    NOT NULL,
    error      TEXT    NOT NULL,
    attempts   INTEGER NOT NULL,
    failed_at  TEXT    NOT NULL,
    PRIMARY KEY (subscriber, message_id)
) WITHOUT ROWID;

-- The points read model: per account the last applied ledger seq, and its
-- daily lots. Rebuilt from ledger_events by `unicorn projections rebuild`.
CREATE TABLE point_balances (
    account     TEXT PRIMARY KEY,
    seq         INTEGER NOT NULL,
    next_expiry TEXT,
    updated_at  TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX point_balances_next_expiry ON point_balances (next_expiry) WHERE next_expiry IS NOT NULL;

CREATE TABLE point_lots (
    account      TEXT    NOT NULL,
    issued_on    TEXT    NOT NULL,
    expires_on   TEXT    NOT NULL,
    issued       INTEGER NOT NULL,
    remaining    INTEGER NOT NULL CHECK (remaining >= 0),
    expired      INTEGER NOT NULL,
    last_updated TEXT    NOT NULL,
    PRIMARY KEY (account, issued_on)
) WITHOUT ROWID;
