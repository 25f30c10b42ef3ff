-- Snapshots of each account's command-side state, so that a command reads
-- the snapshot and the events after it rather than the whole stream.
CREATE TABLE point_snapshots (
    account  TEXT PRIMARY KEY,
    version  INTEGER NOT NULL,
    state    TEXT NOT NULL,
    taken_at TEXT NOT NULL
) WITHOUT ROWID;
