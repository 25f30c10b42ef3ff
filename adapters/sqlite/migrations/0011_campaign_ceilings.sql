-- Each client's own ceiling on points per purchase (the campaign domain's
-- encoding), versioned; a client without one has the server's default.
-- Only a new table: running it again changes nothing.
CREATE TABLE IF NOT EXISTS campaign_ceilings (
    client     TEXT    NOT NULL PRIMARY KEY,
    version    INTEGER NOT NULL,
    definition TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    updated_by TEXT    NOT NULL
) WITHOUT ROWID;
