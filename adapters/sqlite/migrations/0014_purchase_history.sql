-- Every completed purchase of a client, as its PurchaseCompleted message
-- carried it: a read model beside sales_tallies, kept once per order with
-- it (the same sales_orders row), and read in time order from a time on
-- (a campaign's backtest). payload is the message's JSON at version.
CREATE TABLE purchase_history (
    client   TEXT    NOT NULL,
    at       TEXT    NOT NULL, -- PurchaseCompleted.At, as stored times are written (it sorts)
    order_id TEXT    NOT NULL,
    version  INTEGER NOT NULL,
    payload  TEXT    NOT NULL,
    PRIMARY KEY (client, at, order_id)
) WITHOUT ROWID;

-- Orders counted before this table existed are not filled in: the history
-- starts with the purchases completed from now on.
