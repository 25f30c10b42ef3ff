-- Identity hardening: usernames unique regardless of case, the refresh
-- hashes a session rotated away, sign-in attempts counted atomically, and
-- the addresses users signed in from.

-- folded is the lower-cased username (usernames are ASCII, so SQLite's
-- lower() folds them exactly) under a unique index. A database may already
-- hold case variants ("Derick" and "derick"): a unique index on
-- lower(username) would fail to build on it, and which of them is the
-- customer is not the migration's to decide. So the first of each group
-- (by username) holds the folded name and the others keep NULL, which a
-- unique index admits any number of: every existing user still signs in,
-- and no new variant of any of them can be created.
ALTER TABLE users ADD COLUMN folded TEXT;
UPDATE users SET folded = lower(username)
 WHERE username IN (SELECT min(username) FROM users GROUP BY lower(username));
CREATE UNIQUE INDEX users_by_folded ON users (folded);

-- The hashes of the refresh tokens a session rotated away (the last few,
-- space-separated): presenting one again ends the session, a wrong secret
-- changes nothing.
ALTER TABLE sessions ADD COLUMN previous_hashes TEXT NOT NULL DEFAULT '';

-- Sign-in attempts replace login_failures: an attempt takes its slot under
-- each of its keys before the password is checked, and gives it back when
-- the password was right. The old table goes with what it held (at most 15
-- minutes of failures, and the usernames of any size that were recorded).
DROP TABLE login_failures;
CREATE TABLE signin_attempts (
    key     TEXT NOT NULL,
    attempt TEXT NOT NULL,
    at      TEXT NOT NULL
);
CREATE INDEX signin_attempts_by_key ON signin_attempts (key, at);
CREATE INDEX signin_attempts_by_at ON signin_attempts (at);

-- Where each user signed in from, and until when that address is known.
CREATE TABLE known_addresses (
    username TEXT NOT NULL,
    address  TEXT NOT NULL,
    until    TEXT NOT NULL,
    PRIMARY KEY (username, address)
) WITHOUT ROWID;
