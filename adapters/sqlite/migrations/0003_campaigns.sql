-- Campaigns: the current version of each (client, name), every version in
-- campaign_versions, and budget grants per campaign and idempotency key.
CREATE TABLE campaigns (
    client     TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    definition TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    updated_by TEXT    NOT NULL,
    deleted    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (client, name)
) WITHOUT ROWID;

CREATE TABLE campaign_versions (
    client     TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    definition TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    updated_by TEXT    NOT NULL,
    deleted    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (client, name, version)
) WITHOUT ROWID;

CREATE TABLE campaign_budgets (
    client  TEXT    NOT NULL,
    name    TEXT    NOT NULL,
    awarded INTEGER NOT NULL,
    PRIMARY KEY (client, name)
) WITHOUT ROWID;

CREATE TABLE campaign_grants (
    client TEXT    NOT NULL,
    name   TEXT    NOT NULL,
    key    TEXT    NOT NULL,
    points INTEGER NOT NULL,
    PRIMARY KEY (client, name, key)
) WITHOUT ROWID;
