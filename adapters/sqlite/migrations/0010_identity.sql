-- Identity hardening: usernames unique regardless of case, the refresh
-- hashes a session rotated away, sign-in attempts counted atomically, and
-- the addresses users signed in from. New tables only, so that running it
-- again on a database that has it changes nothing.

-- A username is taken in every case: usernames holds each lower-cased name
-- (usernames are ASCII, so SQLite's lower() folds them exactly) and the
-- user who holds it, written in the user's transaction. A database may
-- already hold case variants ("Derick" and "derick"): a unique index on
-- lower(username) would fail to build on it, and which of them is the
-- customer is not the migration's to decide. So the first of each group
-- (by username) holds the name; the others keep signing in, and no new
-- variant of any of them can be created.
CREATE TABLE IF NOT EXISTS usernames (
    folded   TEXT PRIMARY KEY,
    username TEXT NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO usernames (folded, username)
SELECT lower(username), min(username) FROM users GROUP BY lower(username);

-- The hashes of the refresh tokens a session rotated away (the last few,
-- space-separated): presenting one again ends the session, a wrong secret
-- changes nothing.
CREATE TABLE IF NOT EXISTS session_rotations (
    id              TEXT PRIMARY KEY, -- the session's
    previous_hashes TEXT NOT NULL
) WITHOUT ROWID;

-- Sign-in attempts replace login_failures: an attempt takes its slot under
-- each of its keys before the password is checked, and gives it back when
-- the password was right. The old table goes with what it held (at most 15
-- minutes of failures, and the usernames of any size that were recorded).
DROP TABLE IF EXISTS login_failures;
CREATE TABLE IF NOT EXISTS signin_attempts (
    key     TEXT NOT NULL,
    attempt TEXT NOT NULL,
    at      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS signin_attempts_by_key ON signin_attempts (key, at);
CREATE INDEX IF NOT EXISTS signin_attempts_by_at ON signin_attempts (at);

-- Where each user signed in from, and until when that address is known.
CREATE TABLE IF NOT EXISTS known_addresses (
    username TEXT NOT NULL,
    address  TEXT NOT NULL,
    until    TEXT NOT NULL,
    PRIMARY KEY (username, address)
) WITHOUT ROWID;
