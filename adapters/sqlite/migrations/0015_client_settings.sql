-- A client's loyalty settings, each a versioned definition by name: the
-- ceiling on points per purchase (campaign_ceilings until now) and the
-- tiers.
CREATE TABLE client_settings (
    client     TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    definition TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    updated_by TEXT    NOT NULL,
    PRIMARY KEY (client, name)
) WITHOUT ROWID;
INSERT INTO client_settings (client, name, version, definition, updated_at, updated_by)
    SELECT client, 'ceiling', version, definition, updated_at, updated_by FROM campaign_ceilings;
DROP TABLE campaign_ceilings;
