-- Retail: products (their stock included), stock reservations by order,
-- wallets with their deposits and charges, orders, published events, and
-- the two read models the outbox feeds: product search and sales tallies.
-- Money is stored as decimal text, never as a float.
CREATE TABLE products (
    id          TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL,
    image       TEXT    NOT NULL,
    price       TEXT    NOT NULL,
    stock       INTEGER NOT NULL CHECK (stock >= 0),
    version     INTEGER NOT NULL,
    updated_at  TEXT    NOT NULL
) WITHOUT ROWID;

CREATE TABLE reservations (
    order_id   TEXT PRIMARY KEY,
    lines      TEXT NOT NULL,
    status     TEXT NOT NULL,
    expires_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX reservations_held ON reservations (expires_at) WHERE status = 'reserved';

CREATE TABLE wallets (
    username   TEXT PRIMARY KEY,
    balance    TEXT NOT NULL,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE wallet_deposits (
    key      TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    amount   TEXT NOT NULL,
    at       TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE wallet_charges (
    order_id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    amount   TEXT NOT NULL,
    status   TEXT NOT NULL, -- charged, refunded
    at       TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE orders (
    id         TEXT    PRIMARY KEY,
    user_id    TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    data       TEXT    NOT NULL
) WITHOUT ROWID;
CREATE INDEX orders_by_user ON orders (user_id, created_at, id);
CREATE INDEX orders_by_status ON orders (status, created_at);

CREATE TABLE published (
    key TEXT PRIMARY KEY,
    at  TEXT NOT NULL
) WITHOUT ROWID;

CREATE VIRTUAL TABLE product_search USING fts5(id UNINDEXED, name, description, tokenize = 'unicode61 remove_diacritics 2');
CREATE TABLE product_search_versions (
    id      TEXT    PRIMARY KEY,
    version INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE sales_tallies (
    product_id TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    orders     INTEGER NOT NULL,
    units      INTEGER NOT NULL,
    revenue    TEXT    NOT NULL
) WITHOUT ROWID;
CREATE TABLE sales_orders (
    order_id TEXT PRIMARY KEY
) WITHOUT ROWID;
