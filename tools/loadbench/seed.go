package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"time"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/adapters/sqlite"
	"github.com/unicornstore/unicorn/domains/points"
)

// The heavy account: ten years of days, each with perDay issues of 10
// points (-heavy-per-day), and a redemption of 50 every tenth day: at the
// default of 27 a day, the 100,000 events the issue asks for, in 3,650 daily
// lots. Seeding goes through the points domain, a command at a time with
// its fsync, which takes about two minutes here.
const (
	heavyAccount = "heavy"
	heavyDays    = 3650
)

var perDay = 27

// seedHeavy writes the heavy account's history into the store's database
// through the points domain, a day at a time on a hand-moved clock (each
// day's points are a lot), and returns its balance. The store's outbox
// then feeds the read model when it starts.
func seedHeavy(path string) (int64, error) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	start := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -heavyDays)
	clk := clock.NewManual(start)
	svc, err := points.NewService(points.Deps{Ledger: db.Ledger(), Snapshots: db.Snapshots(), Clock: clk, IDs: clock.UUIDs{}},
		points.Config{TTLDays: 4000})
	if err != nil {
		return 0, err
	}
	account, err := points.NewAccountID("UnicornStore", heavyAccount)
	if err != nil {
		return 0, err
	}
	var balance int64
	began := time.Now()
	for day := range heavyDays {
		clk.Set(start.AddDate(0, 0, day).Add(9 * time.Hour))
		for range perDay {
			if _, err := svc.Issue(ctx, points.IssueCommand{Account: account, Amount: 10}); err != nil {
				return 0, err
			}
			balance += 10
		}
		if day%10 == 9 {
			if _, err := svc.Redeem(ctx, points.RedeemCommand{Account: account, Amount: 50}); err != nil {
				return 0, err
			}
			balance -= 50
		}
		if day%365 == 364 {
			fmt.Fprintf(os.Stderr, "loadbench: seeded %d of %d days (%s)\n", day+1, heavyDays, time.Since(began).Round(time.Second))
		}
	}
	return balance, nil
}

// seedBaseline gives the baseline's heavy account as many rows as the
// store's has events, with the same balance.
func seedBaseline(path string) (int64, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS entries (id INTEGER PRIMARY KEY, account TEXT NOT NULL, amount INTEGER NOT NULL, at TEXT NOT NULL);
		CREATE INDEX IF NOT EXISTS entries_account ON entries(account)`); err != nil {
		return 0, err
	}
	tx, err := db.Begin()
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var balance int64
	at := time.Now().UTC().Format(time.RFC3339)
	for day := range heavyDays {
		for range perDay {
			if _, err := tx.Exec(`INSERT INTO entries(account, amount, at) VALUES (?, 10, ?)`, heavyAccount, at); err != nil {
				return 0, err
			}
			balance += 10
		}
		if day%10 == 9 {
			if _, err := tx.Exec(`INSERT INTO entries(account, amount, at) VALUES (?, -50, ?)`, heavyAccount, at); err != nil {
				return 0, err
			}
			balance -= 50
		}
	}
	return balance, tx.Commit()
}
