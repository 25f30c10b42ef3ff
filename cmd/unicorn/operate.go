package main

import (
	"github.com/unicornstore/unicorn/adapters/sqlite"
	"github.com/unicornstore/unicorn/cmd/internal/compose"

	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// rebuild replays the ledger into a fresh read model. It is safe while
// serve runs: the read model applies each event once whoever delivers it.
func rebuild(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	a, err := openApp(ctx, "projections rebuild", args, getenv, stderr, "db", "log-level", "log-format")
	if err != nil {
		return err
	}
	defer a.Close()
	total, err := a.stores.Ledger.Count(ctx)
	if err != nil {
		return err
	}
	progress := progressTo(stderr, total, "replaying ledger")
	start := time.Now()
	if err := a.Reads.Rebuild(ctx, 1000, progress); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rebuilt the points read model from %d events in %s\n", total, time.Since(start).Round(time.Millisecond))
	return nil
}

// openApp builds the app for an operator command from its flags.
func openApp(ctx context.Context, name string, args []string, getenv func(string) string, stderr io.Writer, flags ...string) (*app, error) {
	c, err := compose.ParseConfig(name, args, getenv, stderr, flags...)
	if err != nil {
		return nil, err
	}
	return newApp(ctx, c, compose.NewLogger(c, stderr), deps{})
}

// expire runs one expiry sweep.
func expire(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	a, err := openApp(ctx, "points expire", args, getenv, stderr, "db", "point-ttl-days", "log-level", "log-format")
	if err != nil {
		return err
	}
	defer a.Close()
	// Bring the read model up to date first: it is where due lots are found.
	if _, err := a.dispatcher.Drain(ctx); err != nil {
		return err
	}
	res, err := a.Sweeper.Sweep(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "expired %d points in %d accounts\n", res.Points, res.Accounts)
	return nil
}

// progressTo returns a progress callback: a bar on a terminal, otherwise a
// line every 10%, so logs of scripted runs stay readable.
func progressTo(w io.Writer, total int64, what string) func(int64) {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar := progressbar.NewOptions64(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(what),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("events"),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }))
		return func(done int64) { _ = bar.Set64(done) }
	}
	next := int64(0)
	return func(done int64) {
		if done >= next || done == total {
			pct := 100
			if total > 0 {
				pct = int(done * 100 / total)
			}
			fmt.Fprintf(w, "%s: %d/%d events (%d%%)\n", what, done, total, pct)
			next = done + max(total/10, 1)
		}
	}
}

// backup writes a consistent copy of the database to the file named, while
// the store may keep serving.
func backup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, rest, err := compose.ParseCommand("backup", args, getenv, stderr, nil, "db")
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("backup: name the file to write, once (unicorn backup [-db %s] FILE)", c.DBPath)
	}
	db, err := sqlite.Open(ctx, c.DBPath)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	if err := db.Backup(ctx, rest[0]); err != nil {
		return err
	}
	info, err := os.Stat(rest[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s (%d bytes) in %s\n", c.DBPath, rest[0], info.Size(), time.Since(start).Round(time.Millisecond))
	return nil
}

// restore puts a backup in place of the database; the store must be
// stopped.
func restore(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, rest, err := compose.ParseCommand("restore", args, getenv, stderr, nil, "db")
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("restore: name the backup to restore, once (unicorn restore [-db %s] FILE)", c.DBPath)
	}
	if err := sqlite.Restore(ctx, rest[0], c.DBPath); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s from %s; start the store to resume\n", c.DBPath, rest[0])
	return nil
}
