-- The retail rules live in the domain: storage keeps versions. A
-- reservation and an order's payment carry the version the domain changed
-- them at; rows written before count as version 1.
ALTER TABLE reservations ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE wallet_charges ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- An admin's stock change, once per idempotency key.
CREATE TABLE stock_adjustments (
    key        TEXT    PRIMARY KEY,
    product_id TEXT    NOT NULL,
    delta      INTEGER NOT NULL,
    stock      INTEGER NOT NULL,
    at         TEXT    NOT NULL
) WITHOUT ROWID;
