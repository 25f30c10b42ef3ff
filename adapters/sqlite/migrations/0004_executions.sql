-- State machine executions of the local ASL executor: the current
-- checkpoint of each, written at every transition, and its history.
CREATE TABLE executions (
    name          TEXT    PRIMARY KEY,
    state_machine TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    input         TEXT    NOT NULL,
    output        TEXT,
    error         TEXT    NOT NULL,
    cause         TEXT    NOT NULL,
    started_at    TEXT    NOT NULL,
    stopped_at    TEXT    NOT NULL,
    checkpoint    TEXT,
    wake_at       TEXT    NOT NULL, -- the zero time: due now
    version       INTEGER NOT NULL,
    events        INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX executions_due ON executions (wake_at) WHERE status = 'RUNNING';

CREATE TABLE execution_events (
    execution TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    type      TEXT    NOT NULL,
    state     TEXT    NOT NULL,
    at        TEXT    NOT NULL,
    details   TEXT,
    PRIMARY KEY (execution, seq)
) WITHOUT ROWID;
