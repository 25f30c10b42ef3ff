package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	_ "modernc.org/sqlite"
)

// baseline is the limit the store is measured against: Go's net/http and
// one SQLite insert per write, with the store's durability (the same
// driver, WAL, synchronous=FULL, one writer connection). It answers the
// routes the scenarios call with the store's request shapes, and does
// nothing else: no rules, no idempotency, no read model. A store doing
// real work at a ratio near 1 is as fast as this machine's disk allows
// one commit per write to be.
func baseline(args []string) error {
	if len(args) != 2 {
		return errors.New("baseline <address> <database file>")
	}
	dsn := "file:" + args[1] + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)"
	writer, err := sql.Open("sqlite", dsn)
	if err != nil {
		return err
	}
	writer.SetMaxOpenConns(1) // one writer, as SQLite allows
	readers, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		return err
	}
	readers.SetMaxOpenConns(8)
	if _, err := writer.Exec(`CREATE TABLE IF NOT EXISTS entries (id INTEGER PRIMARY KEY, account TEXT NOT NULL, amount INTEGER NOT NULL, at TEXT NOT NULL);
		CREATE INDEX IF NOT EXISTS entries_account ON entries(account)`); err != nil {
		return err
	}
	write := func(w http.ResponseWriter, r *http.Request, account string, amount int64) {
		if _, err := writer.ExecContext(r.Context(), `INSERT INTO entries(account, amount, at) VALUES (?, ?, ?)`,
			account, amount, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"account_id":%q,"amount":%d}`, account, amount)
	}
	// The writes read what the store's routes read from their bodies.
	read := func(w http.ResponseWriter, r *http.Request) (b struct {
		AccountID string `json:"account_id"`
		Amount    int64  `json:"amount"`
		UserID    string `json:"user_id"`
	}, ok bool) {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&b); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return b, false
		}
		return b, true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /points", func(w http.ResponseWriter, r *http.Request) {
		if b, ok := read(w, r); ok {
			write(w, r, b.AccountID, b.Amount)
		}
	})
	mux.HandleFunc("DELETE /points", func(w http.ResponseWriter, r *http.Request) {
		if b, ok := read(w, r); ok {
			write(w, r, b.AccountID, -b.Amount)
		}
	})
	mux.HandleFunc("POST /purchase", func(w http.ResponseWriter, r *http.Request) {
		if b, ok := read(w, r); ok {
			write(w, r, b.UserID, 1)
		}
	})
	mux.HandleFunc("GET /points", func(w http.ResponseWriter, r *http.Request) {
		var sum int64
		if err := readers.QueryRowContext(r.Context(), `SELECT COALESCE(SUM(amount), 0) FROM entries WHERE account = ?`,
			r.URL.Query().Get("account_id")).Scan(&sum); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"balance":%d}`, sum)
	})
	ln, err := net.Listen("tcp", args[0])
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.Background())
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
