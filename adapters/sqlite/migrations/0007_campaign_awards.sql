-- Points each campaign gave per client and UTC day, from PurchaseCompleted:
-- a read model beside sales_tallies, counted once per order with it (the
-- same sales_orders row).
CREATE TABLE campaign_awards (
    client        TEXT    NOT NULL,
    day           TEXT    NOT NULL, -- YYYY-MM-DD, UTC
    campaign_name TEXT    NOT NULL,
    points        INTEGER NOT NULL,
    orders        INTEGER NOT NULL,
    PRIMARY KEY (client, day, campaign_name)
) WITHOUT ROWID;

-- Orders counted before this table existed are not filled in here: how an
-- award breakdown sums per campaign is a rule of the retail domain, and it
-- lives there only. (Databases of that age were development copies.)
