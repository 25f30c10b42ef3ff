// Package sqlite is the embedded storage of the one-machine shape: the
// points ledger, the read model and a transactional outbox in one SQLite
// file (WAL mode). It implements ports and knows nothing of the domains.
//
// One connection writes (SQLite has one writer; every write transaction
// starts with BEGIN IMMEDIATE so it never fails half-way on a lock upgrade),
// committing concurrent callers' transactions together (groupcommit.go),
// and a small pool reads, concurrently with the writer thanks to WAL.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/unicornstore/unicorn/adapters/internal/storedtime"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is an open database file.
type DB struct {
	path  string
	write *sql.DB
	read  *sql.DB
	// Statements are prepared once per pool: parsing SQL was a seventh of
	// a points command's CPU time.
	writeStmts, readStmts stmtCache

	group committer // runs write transactions, grouped (groupcommit.go)

	mu      sync.Mutex
	wakeups []chan struct{} // outbox subscribers to wake after a commit
}

// Times are stored as text that sorts (see storedtime).
var formatTime, parseTime = storedtime.Format, storedtime.Parse

// uriEscaper escapes the characters that would end the path part of an
// SQLite URI filename.
var uriEscaper = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

// Open opens (creating it and its directory if needed) the database at path
// and brings its schema up to date.
func Open(ctx context.Context, path string) (*DB, error) {
	return open(ctx, path, -1)
}

// open opens the database and migrates it to schema version upTo (-1: the
// latest). Tests of a migration stop before it to write older data.
func open(ctx context.Context, path string, upTo int) (*DB, error) {
	if path == "" {
		return nil, errors.New("open database: no path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	// synchronous(FULL): a commit is on disk before it is acknowledged, so
	// not even a power cut loses an acknowledged points change.
	common := "file:" + uriEscaper.Replace(path) + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)"
	write, err := sql.Open("sqlite", common+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	read, err := sql.Open("sqlite", common+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	// Every reader stays open: database/sql closes idle connections beyond
	// two by default, and a new connection prepares each statement again
	// (parsing SQL was a sixth of a purchase's CPU time).
	readers := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	read.SetConnMaxIdleTime(0)
	db := &DB{path: path, write: write, read: read, writeStmts: stmtCache{pool: write}, readStmts: stmtCache{pool: read}}
	if err := db.migrate(ctx, upTo); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Close closes both pools.
func (db *DB) Close() error {
	return errors.Join(db.readStmts.close(), db.writeStmts.close(), db.read.Close(), db.write.Close())
}

// migrate applies the embedded migrations newer than the file's
// user_version, up to upTo (-1: all), each in its own transaction with the
// version bump.
func (db *DB) migrate(ctx context.Context, upTo int) error {
	names, err := migrationNames()
	if err != nil {
		return err
	}
	var current int
	if err := db.write.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > len(names) {
		return fmt.Errorf("database schema version %d is newer than this program (%d): upgrade the program", current, len(names))
	}
	for i, name := range names {
		version := i + 1
		if n, err := strconv.Atoi(strings.SplitN(filepath.Base(name), "_", 2)[0]); err != nil || n != version {
			return fmt.Errorf("migration %s: file names must be numbered 0001, 0002, ... without gaps", name)
		}
		if version <= current || upTo >= 0 && version > upTo {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("read migration %s: %w", name, err)
		}
		err = db.txAlone(ctx, func(tx *txn) error {
			// Raw: a migration holds several statements, and runs once.
			if _, err := tx.tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", version))
			return err
		})
		if err != nil {
			return fmt.Errorf("apply migration %s: %w", name, err)
		}
	}
	return nil
}

// migrationNames lists the embedded migrations in order.
func migrationNames() ([]string, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	return names, nil
}

// txAlone runs fn in a write transaction of its own (BEGIN IMMEDIATE),
// on the caller's goroutine: for migrations, which run before any other
// write and may hold raw multi-statement SQL.
func (db *DB) txAlone(ctx context.Context, fn func(*txn) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	t := &txn{ctx: ctx, tx: tx, stmts: &db.writeStmts}
	defer t.cacheMissed()
	if err := fn(t); err != nil {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// readTx runs fn in a read transaction: one consistent snapshot.
func (db *DB) readTx(ctx context.Context, fn func(*txn) error) error {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	t := &txn{ctx: ctx, tx: tx, stmts: &db.readStmts}
	defer t.cacheMissed()
	defer tx.Rollback()
	return fn(t)
}

// query and queryRow read outside a transaction, on the reader pool.
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := db.readStmts.get(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (db *DB) queryRow(ctx context.Context, query string, args ...any) row {
	st, err := db.readStmts.get(ctx, query)
	if err != nil {
		return row{err: err}
	}
	return row{row: st.QueryRowContext(ctx, args...)}
}

// txn is a transaction that runs the pool's prepared statements.
type txn struct {
	ctx      context.Context
	tx       *sql.Tx
	stmts    *stmtCache
	missed   []string // queries to prepare on the pool once the transaction ends
	enqueued bool     // wrote to the outbox: wake the subscribers after commit
}

func (t *txn) stmt(query string) (*sql.Stmt, error) {
	if st, ok := t.stmts.lookup(query); ok {
		return t.tx.StmtContext(t.ctx, st), nil
	}
	// Preparing on the pool now could wait forever for the connection
	// this transaction holds: prepare on the transaction, cache later.
	t.missed = append(t.missed, query)
	return t.tx.PrepareContext(t.ctx, query)
}

// cacheMissed prepares, on the pool, the queries the transaction ran
// unprepared. It runs after the transaction has released its connection.
func (t *txn) cacheMissed() {
	for _, q := range t.missed {
		_, _ = t.stmts.get(context.WithoutCancel(t.ctx), q) // an error here only costs the cache
	}
}

func (t *txn) exec(query string, args ...any) (sql.Result, error) {
	st, err := t.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(t.ctx, args...)
}

func (t *txn) query(query string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(t.ctx, args...)
}

func (t *txn) queryRow(query string, args ...any) row {
	st, err := t.stmt(query)
	if err != nil {
		return row{err: err}
	}
	return row{row: st.QueryRowContext(t.ctx, args...)}
}

// row is a *sql.Row that can also carry an error from preparing.
type row struct {
	row *sql.Row
	err error
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.row.Scan(dest...)
}

// stmtCache prepares each query once per pool. database/sql re-prepares a
// statement on each connection of the pool the first time it runs there.
type stmtCache struct {
	pool *sql.DB
	mu   sync.Mutex
	m    map[string]*sql.Stmt
}

func (c *stmtCache) lookup(query string) (*sql.Stmt, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.m[query]
	return st, ok
}

// get returns the pool's statement for query, preparing it if needed. The
// caller must hold no connection of the pool.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := c.lookup(query); ok {
		return st, nil
	}
	st, err := c.pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.m[query]; ok { // prepared meanwhile by another caller
		st.Close()
		return prev, nil
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[query] = st
	return st, nil
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, st := range c.m {
		errs = append(errs, st.Close())
	}
	c.m = nil
	return errors.Join(errs...)
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// isConstraint reports whether err is a UNIQUE or PRIMARY KEY violation.
func isConstraint(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return true
		}
	}
	return false
}

// wake tells the outbox subscribers that new messages were committed.
func (db *DB) wake() {
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, c := range db.wakeups {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

func (db *DB) subscribeWakeups() chan struct{} {
	c := make(chan struct{}, 1)
	db.mu.Lock()
	defer db.mu.Unlock()
	db.wakeups = append(db.wakeups, c)
	return c
}

// Ping checks that both pools answer.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("ping reader: %w", err)
	}
	if err := db.write.PingContext(ctx); err != nil {
		return fmt.Errorf("ping writer: %w", err)
	}
	return nil
}
