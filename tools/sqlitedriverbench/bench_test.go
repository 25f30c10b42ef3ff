// Package sqlitedriverbench measures the two pure-Go SQLite drivers on the
// workload the ledger puts on them: small write transactions (event,
// idempotency record, outbox row) and short reads of one account's stream.
// It is its own module so the losing driver never enters the main go.mod.
package sqlitedriverbench

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	_ "github.com/ncruces/go-sqlite3/driver"
	_ "github.com/ncruces/go-sqlite3/embed"
	_ "modernc.org/sqlite"
)

const schema = `
CREATE TABLE IF NOT EXISTS events (position INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, seq INTEGER NOT NULL, data TEXT NOT NULL, UNIQUE(account, seq));
CREATE TABLE IF NOT EXISTS idem (key TEXT PRIMARY KEY, result TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, payload TEXT NOT NULL);`

type driver struct{ name, dsn string }

// drivers names the two drivers: "sqlite" is modernc.org/sqlite (C
// translated to Go), "sqlite3" is ncruces/go-sqlite3 (SQLite compiled to
// WebAssembly, run by wazero).
func drivers(sync string) []driver {
	const opts = "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_txlock=immediate&_pragma=synchronous("
	return []driver{{"sqlite", opts + sync + ")"}, {"sqlite3", opts + sync + ")"}}
}

func open(b *testing.B, d driver, conns int) *sql.DB {
	db, err := sql.Open(d.name, "file:"+filepath.Join(b.TempDir(), "bench.db")+d.dsn)
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(conns)
	if _, err := db.Exec(schema); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

const payload = `{"amount":100,"lot":"2026-11-21","expires_on":"2027-11-21"}`

func BenchmarkAppend(b *testing.B) {
	for _, sync := range []string{"NORMAL", "FULL"} {
		for _, d := range drivers(sync) {
			b.Run(d.name+"/"+sync, func(b *testing.B) {
				db := open(b, d, 1)
				var n int64
				for b.Loop() {
					n++
					tx, err := db.Begin()
					if err != nil {
						b.Fatal(err)
					}
					acct := fmt.Sprintf("a%d", n%100)
					if _, err := tx.Exec(`INSERT INTO events(account, seq, data) VALUES(?, ?, ?)`, acct, n, payload); err != nil {
						b.Fatal(err)
					}
					if _, err := tx.Exec(`INSERT INTO idem(key, result) VALUES(?, ?)`, fmt.Sprint("k", n), payload); err != nil {
						b.Fatal(err)
					}
					if _, err := tx.Exec(`INSERT INTO outbox(payload) VALUES(?)`, payload); err != nil {
						b.Fatal(err)
					}
					if err := tx.Commit(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkReadStream(b *testing.B) {
	for _, d := range drivers("NORMAL") {
		b.Run(d.name, func(b *testing.B) {
			db := open(b, d, 4)
			for i := range 100 * 20 {
				if _, err := db.Exec(`INSERT INTO events(account, seq, data) VALUES(?, ?, ?)`, fmt.Sprintf("a%d", i%100), i, payload); err != nil {
					b.Fatal(err)
				}
			}
			var n atomic.Int64
			b.SetParallelism(2)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					rows, err := db.Query(`SELECT seq, data FROM events WHERE account = ? ORDER BY seq`, fmt.Sprintf("a%d", n.Add(1)%100))
					if err != nil {
						b.Fatal(err)
					}
					var c int
					for rows.Next() {
						var seq int64
						var data string
						if err := rows.Scan(&seq, &data); err != nil {
							b.Fatal(err)
						}
						c++
					}
					rows.Close()
					if c != 20 {
						b.Fatalf("got %d rows", c)
					}
				}
			})
		})
	}
}
