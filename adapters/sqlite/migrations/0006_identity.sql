-- Identity: users with their argon2id password hashes, API keys (a hash of
-- the secret only), sessions (a hash of the current refresh token only),
-- failed sign-ins for throttling, the client each points account belongs
-- to, and the store's own secrets (the token signing key).
CREATE TABLE users (
    username      TEXT PRIMARY KEY,
    client        TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX users_by_client ON users (client, username);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    client       TEXT NOT NULL,
    name         TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    revoked_at   TEXT NOT NULL DEFAULT '',
    last_used_at TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    username     TEXT NOT NULL,
    refresh_hash TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    revoked_at   TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE TABLE login_failures (
    key TEXT NOT NULL,
    at  TEXT NOT NULL
);
CREATE INDEX login_failures_by_key ON login_failures (key, at);

CREATE TABLE account_owners (
    account TEXT PRIMARY KEY,
    client  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
