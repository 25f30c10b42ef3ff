package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Backup writes a consistent copy of the database to path while the store
// keeps serving: VACUUM INTO reads one snapshot (WAL lets writers go on)
// on a connection of its own, into a temporary file that is synced and
// then renamed, so path is either the whole copy or absent. path must not
// exist.
func (db *DB) Backup(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("backup: %s exists already", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	partial := path + ".partial"
	_ = os.Remove(partial) // left by a backup that was interrupted
	conn, err := sql.Open("sqlite", "file:"+uriEscaper.Replace(db.path)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, partial); err != nil {
		_ = os.Remove(partial)
		return fmt.Errorf("backup: %w", err)
	}
	if err := syncFile(partial); err != nil {
		_ = os.Remove(partial)
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(partial, path); err != nil {
		_ = os.Remove(partial)
		return fmt.Errorf("backup: %w", err)
	}
	return syncFile(filepath.Dir(path))
}

// Restore puts the backup at from in place of the database file at path,
// which no process may have open (stop the store first). The backup is
// checked first (PRAGMA integrity_check, and a schema this program knows);
// the old file's WAL and shared-memory files go with it.
func Restore(ctx context.Context, from, path string) error {
	if err := checkBackup(ctx, from); err != nil {
		return fmt.Errorf("restore %s: %w", from, err)
	}
	tmp := path + ".restoring"
	if err := copyFile(from, tmp); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("restore %s: %w", from, err)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			_ = os.Remove(tmp)
			return fmt.Errorf("restore %s: %w", from, err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("restore %s: %w", from, err)
	}
	return syncFile(filepath.Dir(path))
}

// checkBackup opens a backup read-only and checks it is whole and of a
// schema this program can open.
func checkBackup(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	conn, err := sql.Open("sqlite", "file:"+uriEscaper.Replace(path)+"?mode=ro")
	if err != nil {
		return err
	}
	defer conn.Close()
	var result string
	if err := conn.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&result); err != nil {
		return fmt.Errorf("not a database: %w", err)
	}
	if result != "ok" {
		return fmt.Errorf("integrity check: %s", result)
	}
	var version int
	if err := conn.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return err
	}
	names, err := migrationNames()
	if err != nil {
		return err
	}
	if version == 0 || version > len(names) {
		return fmt.Errorf("schema version %d is not one this program knows (1 to %d)", version, len(names))
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	f, err := os.OpenFile(to, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, in); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
