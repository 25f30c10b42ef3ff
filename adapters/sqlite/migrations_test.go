package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestClientAccountsMigration: a database written before accounts were
// named per client moves each account, its idempotency keys, its read model
// and its undelivered outbox messages to the stream of the client that
// owned it (the store's when nobody had claimed it).
func TestClientAccountsMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := open(ctx, path, 7)
	if err != nil {
		t.Fatal(err)
	}
	at := "2026-11-01T00:00:00.000000000Z"
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO account_owners (account, client) VALUES ('1234', 'Partner'), ('derick', 'UnicornStore')`, nil},
		{`INSERT INTO ledger_events (account, seq, id, type, version, data, recorded_at) VALUES
			('1234', 1, 'e1', 'points.issued', 1, '{}', ?), ('derick', 1, 'e2', 'points.issued', 1, '{}', ?), ('walkin', 1, 'e3', 'points.issued', 1, '{}', ?)`, []any{at, at, at}},
		{`INSERT INTO idempotency_keys (key, account, fingerprint, result, created_at) VALUES ('api:k1', '1234', 'f', '[]', ?), ('order:o-1:award', 'derick', 'f', '[]', ?)`, []any{at, at}},
		{`INSERT INTO point_balances (account, seq, next_expiry, updated_at) VALUES ('1234', 1, NULL, ?)`, []any{at}},
		{`INSERT INTO point_lots (account, issued_on, expires_on, issued, remaining, expired, last_updated) VALUES ('1234', '2026-11-01', '2027-11-01', 5, 5, 0, ?)`, []any{at}},
		{`INSERT INTO point_snapshots (account, version, state, taken_at) VALUES ('derick', 1, '{}', ?)`, []any{at}},
		{`INSERT INTO outbox (topic, key, payload, created_at) VALUES ('points.ledger', 'walkin', CAST('{"account":"walkin","seq":1}' AS BLOB), ?),
			('retail.products', '1', CAST('{"account":"walkin"}' AS BLOB), ?)`, []any{at, at}},
	} {
		if _, err := db.write.ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	db.Close()

	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	column := func(q string) []string {
		t.Helper()
		rows, err := db.read.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
		return out
	}
	for q, want := range map[string][]string{
		`SELECT account FROM ledger_events ORDER BY id`:                      {"Partner/1234", "UnicornStore/derick", "UnicornStore/walkin"},
		`SELECT key || ' ' || account FROM idempotency_keys ORDER BY key`:    {"Partner/api:k1 Partner/1234", "UnicornStore/order:o-1:award UnicornStore/derick"},
		`SELECT account FROM point_balances`:                                 {"Partner/1234"},
		`SELECT account FROM point_lots`:                                     {"Partner/1234"},
		`SELECT account FROM point_snapshots`:                                {"UnicornStore/derick"},
		`SELECT key || ' ' || CAST(payload AS TEXT) FROM outbox ORDER BY id`: {`UnicornStore/walkin {"account":"UnicornStore/walkin","seq":1}`, `1 {"account":"walkin"}`},
	} {
		if diff := cmp.Diff(want, column(q)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", q, diff)
		}
	}
}

// TestBalanceTotalsMigration: balances written before they kept a total of
// their lots get it from the lots, and answer summaries at once.
func TestBalanceTotalsMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := open(ctx, path, 11)
	if err != nil {
		t.Fatal(err)
	}
	at := "2026-11-01T00:00:00.000000000Z"
	for _, q := range []string{
		`INSERT INTO point_balances (account, seq, next_expiry, updated_at) VALUES ('S/a', 3, '2026-11-03', ?), ('S/b', 1, NULL, ?)`,
		`INSERT INTO point_lots (account, issued_on, expires_on, issued, remaining, expired, last_updated) VALUES
			('S/a', '2026-11-01', '2026-11-03', 5, 5, 0, ?), ('S/a', '2026-11-02', '2026-11-04', 9, 7, 0, ?), ('S/b', '2026-11-01', '2026-11-03', 4, 0, 4, ?)`,
	} {
		args := []any{at, at}
		if strings.Count(q, "?") == 3 {
			args = append(args, at)
		}
		if _, err := db.write.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for account, want := range map[string][]int64{"S/a": {12, 7}, "S/b": {0, 0}} {
		_, sums, err := db.Balances().Summary(ctx, account, "2026-11-01", "2026-11-03")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, sums); diff != "" {
			t.Errorf("%s: sums (-want +got):\n%s", account, diff)
		}
	}
}
