package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/unicornstore/unicorn/ports"
)

// Users, APIKeys, Sessions, Throttle and Secrets are the
// identity ports on SQLite.
type (
	Users    struct{ db *DB }
	APIKeys  struct{ db *DB }
	Sessions struct{ db *DB }
	Throttle struct{ db *DB }
	Secrets  struct{ db *DB }
)

func (db *DB) Users() *Users       { return &Users{db: db} }
func (db *DB) APIKeys() *APIKeys   { return &APIKeys{db: db} }
func (db *DB) Sessions() *Sessions { return &Sessions{db: db} }
func (db *DB) Throttle() *Throttle { return &Throttle{db: db} }
func (db *DB) Secrets() *Secrets   { return &Secrets{db: db} }

var (
	_ ports.Users    = (*Users)(nil)
	_ ports.APIKeys  = (*APIKeys)(nil)
	_ ports.Sessions = (*Sessions)(nil)
	_ ports.Throttle = (*Throttle)(nil)
	_ ports.Secrets  = (*Secrets)(nil)
)

// optionalTime writes the zero time as "" (not yet revoked, never used).
func optionalTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

func parseOptionalTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return parseTime(s)
}

// insert runs one INSERT in a transaction; a duplicate key is ErrConflict.
func (db *DB) insert(ctx context.Context, what, query string, args ...any) error {
	err := db.tx(ctx, func(tx *txn) error {
		_, err := tx.exec(query, args...)
		if isConstraint(err) {
			return ports.ErrConflict
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("create %s: %w", what, err)
	}
	return nil
}

// update runs one UPDATE in a transaction; touching no row is ErrNotFound.
func (db *DB) update(ctx context.Context, what, query string, args ...any) error {
	err := db.tx(ctx, func(tx *txn) error {
		res, err := tx.exec(query, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, ports.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

const userColumns = `username, client, role, password_hash, created_at`

func scanUser(s scanner) (ports.User, error) {
	var u ports.User
	var at string
	if err := s.Scan(&u.Username, &u.Client, &u.Role, &u.PasswordHash, &at); err != nil {
		return u, err
	}
	var err error
	u.CreatedAt, err = parseTime(at)
	return u, err
}

// Create stores the user and, in the same transaction, its lower-cased
// name, whose primary key refuses a case variant of an existing username.
func (s *Users) Create(ctx context.Context, u ports.User) error {
	err := s.db.tx(ctx, func(tx *txn) error {
		if _, err := tx.exec(`INSERT INTO usernames (folded, username) VALUES (lower(?), ?)`, u.Username, u.Username); err != nil {
			return err
		}
		_, err := tx.exec(`INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?)`,
			u.Username, u.Client, u.Role, u.PasswordHash, formatTime(u.CreatedAt))
		return err
	})
	if isConstraint(err) {
		err = ports.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("create user %s: %w", u.Username, err)
	}
	return nil
}

func (s *Users) Get(ctx context.Context, username string) (ports.User, error) {
	u, err := scanUser(s.db.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE username = ?`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("user %s: %w", username, ports.ErrNotFound)
	}
	return u, err
}

func (s *Users) List(ctx context.Context, client string) ([]ports.User, error) {
	rows, err := s.db.query(ctx, `SELECT `+userColumns+` FROM users WHERE ? = '' OR client = ? ORDER BY username`, client, client)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []ports.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func (s *Users) SetPassword(ctx context.Context, username, hash string) error {
	return s.db.update(ctx, "set password of "+username, `UPDATE users SET password_hash = ? WHERE username = ?`, hash, username)
}

const keyColumns = `id, client, name, scopes, secret_hash, created_at, revoked_at, last_used_at`

func scanKey(s scanner) (ports.APIKey, error) {
	var k ports.APIKey
	var scopes, created, revoked, used string
	if err := s.Scan(&k.ID, &k.Client, &k.Name, &scopes, &k.SecretHash, &created, &revoked, &used); err != nil {
		return k, err
	}
	k.Scopes = strings.Fields(scopes)
	var err1, err2, err3 error
	k.CreatedAt, err1 = parseTime(created)
	k.RevokedAt, err2 = parseOptionalTime(revoked)
	k.LastUsedAt, err3 = parseOptionalTime(used)
	return k, errors.Join(err1, err2, err3)
}

func (s *APIKeys) Create(ctx context.Context, k ports.APIKey) error {
	return s.db.insert(ctx, "api key "+k.ID, `INSERT INTO api_keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Client, k.Name, strings.Join(k.Scopes, " "), k.SecretHash, formatTime(k.CreatedAt), optionalTime(k.RevokedAt), optionalTime(k.LastUsedAt))
}

func (s *APIKeys) Get(ctx context.Context, id string) (ports.APIKey, error) {
	k, err := scanKey(s.db.queryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return k, fmt.Errorf("api key %s: %w", id, ports.ErrNotFound)
	}
	return k, err
}

func (s *APIKeys) List(ctx context.Context, client string) ([]ports.APIKey, error) {
	rows, err := s.db.query(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE ? = '' OR client = ? ORDER BY created_at DESC, id`, client, client)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	defer rows.Close()
	var out []ports.APIKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list api keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

func (s *APIKeys) Revoke(ctx context.Context, id string, at time.Time) error {
	// A second revocation keeps the first time.
	return s.db.update(ctx, "revoke api key "+id, `UPDATE api_keys SET revoked_at = CASE revoked_at WHEN '' THEN ? ELSE revoked_at END WHERE id = ?`,
		formatTime(at), id)
}

func (s *APIKeys) Used(ctx context.Context, id string, at time.Time) error {
	return s.db.update(ctx, "use api key "+id, `UPDATE api_keys SET last_used_at = max(last_used_at, ?) WHERE id = ?`, formatTime(at), id)
}

const sessionColumns = `id, username, refresh_hash, created_at, expires_at, revoked_at`

// Create stores the session; its previous hashes, if any, go beside it in
// session_rotations.
func (s *Sessions) Create(ctx context.Context, x ports.Session) error {
	err := s.db.tx(ctx, func(tx *txn) error {
		_, err := tx.exec(`INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
			x.ID, x.Username, x.RefreshHash, formatTime(x.CreatedAt), formatTime(x.ExpiresAt), optionalTime(x.RevokedAt))
		if err != nil || len(x.PreviousHashes) == 0 {
			return err
		}
		return setPrevious(tx, x)
	})
	if isConstraint(err) {
		err = ports.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

func setPrevious(tx *txn, x ports.Session) error {
	_, err := tx.exec(`INSERT INTO session_rotations (id, previous_hashes) VALUES (?, ?)
		ON CONFLICT (id) DO UPDATE SET previous_hashes = excluded.previous_hashes`, x.ID, strings.Join(x.PreviousHashes, " "))
	return err
}

func (s *Sessions) Get(ctx context.Context, id string) (ports.Session, error) {
	var x ports.Session
	var created, expires, revoked, previous string
	err := s.db.queryRow(ctx, `SELECT s.id, s.username, s.refresh_hash, s.created_at, s.expires_at, s.revoked_at, coalesce(r.previous_hashes, '')
		FROM sessions s LEFT JOIN session_rotations r ON r.id = s.id WHERE s.id = ?`, id).
		Scan(&x.ID, &x.Username, &x.RefreshHash, &created, &expires, &revoked, &previous)
	if errors.Is(err, sql.ErrNoRows) {
		return x, fmt.Errorf("session: %w", ports.ErrNotFound)
	}
	if err != nil {
		return x, err
	}
	if previous != "" {
		x.PreviousHashes = strings.Fields(previous)
	}
	var err1, err2, err3 error
	x.CreatedAt, err1 = parseTime(created)
	x.ExpiresAt, err2 = parseTime(expires)
	x.RevokedAt, err3 = parseOptionalTime(revoked)
	return x, errors.Join(err1, err2, err3)
}

func (s *Sessions) Rotate(ctx context.Context, next ports.Session, oldHash string) error {
	err := s.db.tx(ctx, func(tx *txn) error {
		res, err := tx.exec(`UPDATE sessions SET refresh_hash = ?, expires_at = ? WHERE id = ? AND refresh_hash = ? AND revoked_at = ''`,
			next.RefreshHash, formatTime(next.ExpiresAt), next.ID, oldHash)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, ports.ErrConflict)
		}
		return setPrevious(tx, next)
	})
	if err != nil {
		return fmt.Errorf("rotate session: %w", err)
	}
	return nil
}

func (s *Sessions) Revoke(ctx context.Context, id string, at time.Time) error {
	return s.db.update(ctx, "revoke session", `UPDATE sessions SET revoked_at = CASE revoked_at WHEN '' THEN ? ELSE revoked_at END WHERE id = ?`,
		formatTime(at), id)
}

// Take counts and inserts in one write transaction: SQLite's single
// writer (BEGIN IMMEDIATE) makes the count and the insert atomic.
func (s *Throttle) Take(ctx context.Context, id string, keys []ports.ThrottleKey, at, since time.Time) error {
	err := s.db.tx(ctx, func(tx *txn) error {
		// Attempts before the window are of no use to anyone: forget them
		// (each once; the index on at finds them).
		if _, err := tx.exec(`DELETE FROM signin_attempts WHERE at < ?`, formatTime(since)); err != nil {
			return err
		}
		for _, k := range keys {
			times, err := attemptTimes(tx, k.Key)
			if err != nil {
				return err
			}
			if len(times) >= k.Limit {
				return &ports.ThrottleFullError{Key: k.Key, Attempts: times}
			}
		}
		for _, k := range keys {
			if _, err := tx.exec(`INSERT INTO signin_attempts (key, attempt, at) VALUES (?, ?, ?)`, k.Key, id, formatTime(at)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("take a sign-in slot: %w", err)
	}
	return nil
}

// attemptTimes returns the times of key's attempts, oldest first.
func attemptTimes(tx *txn, key string) ([]time.Time, error) {
	rows, err := tx.query(`SELECT at FROM signin_attempts WHERE key = ? ORDER BY at`, key)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var at string
		if err := rows.Scan(&at); err != nil {
			return nil, err
		}
		t, err := parseTime(at)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *Throttle) Release(ctx context.Context, id string, keys []string) error {
	err := s.db.tx(ctx, func(tx *txn) error {
		for _, key := range keys {
			if _, err := tx.exec(`DELETE FROM signin_attempts WHERE key = ? AND attempt = ?`, key, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("release a sign-in slot: %w", err)
	}
	return nil
}

func (s *Throttle) Clear(ctx context.Context, key string) error {
	err := s.db.tx(ctx, func(tx *txn) error {
		_, err := tx.exec(`DELETE FROM signin_attempts WHERE key = ?`, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("clear sign-in attempts: %w", err)
	}
	return nil
}

func (s *Throttle) Remember(ctx context.Context, username, address string, at, until time.Time) error {
	err := s.db.tx(ctx, func(tx *txn) error {
		if _, err := tx.exec(`DELETE FROM known_addresses WHERE username = ? AND until <= ?`, username, formatTime(at)); err != nil {
			return err
		}
		_, err := tx.exec(`INSERT INTO known_addresses (username, address, until) VALUES (?, ?, ?)
			ON CONFLICT (username, address) DO UPDATE SET until = max(until, excluded.until)`, username, address, formatTime(until))
		return err
	})
	if err != nil {
		return fmt.Errorf("remember the address of %s: %w", username, err)
	}
	return nil
}

func (s *Throttle) Known(ctx context.Context, username, address string, at time.Time) (bool, error) {
	var n int
	err := s.db.queryRow(ctx, `SELECT count(*) FROM known_addresses WHERE username = ? AND address = ? AND until > ?`,
		username, address, formatTime(at)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("known address of %s: %w", username, err)
	}
	return n > 0, nil
}

func (s *Secrets) Secret(ctx context.Context, name string, create func() ([]byte, error)) ([]byte, error) {
	var value []byte
	err := s.db.queryRow(ctx, `SELECT value FROM secrets WHERE name = ?`, name).Scan(&value)
	if err == nil {
		return value, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	fresh, err := create()
	if err != nil {
		return nil, fmt.Errorf("make secret %s: %w", name, err)
	}
	err = s.db.tx(ctx, func(tx *txn) error {
		if _, err := tx.exec(`INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING`, name, fresh); err != nil {
			return err
		}
		return tx.queryRow(`SELECT value FROM secrets WHERE name = ?`, name).Scan(&value)
	})
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	return value, nil
}
