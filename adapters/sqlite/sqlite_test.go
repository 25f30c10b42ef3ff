package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/adapters/sqlite"
	"github.com/unicornstore/unicorn/ports"
	"github.com/unicornstore/unicorn/ports/porttest"
)

// openDB opens a fresh database file in the test's temp dir.
func openDB(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "unicorn.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestLedgerContract(t *testing.T) {
	t.Parallel()
	porttest.TestLedger(t, func(t *testing.T) ports.Ledger { return openDB(t).Ledger() })
}

func TestBalancesContract(t *testing.T) {
	t.Parallel()
	porttest.TestBalances(t, func(t *testing.T) ports.Balances { return openDB(t).Balances() })
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "unicorn.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Ledger().Append(ctx, ports.Append{Account: "a", Events: []ports.Event{{ID: "1", Account: "a", Seq: 1, Type: "t", Version: 1, Data: []byte(`{}`)}}}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	if v, err := db.Ledger().Version(ctx, "a"); err != nil || v != 1 {
		t.Errorf("Version after reopen = %d, %v; want 1", v, err)
	}
}

func TestOpenAnyPath(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if db, err := sqlite.Open(ctx, ""); err == nil {
		db.Close()
		t.Error("Open with no path succeeded")
	}
	for _, name := range []string{"a?b.db", "a#b.db", "100%.db", "with space.db"} {
		path := filepath.Join(t.TempDir(), name)
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Errorf("Open(%q): %v", name, err)
			continue
		}
		db.Close()
		if _, err := os.Stat(path); err != nil {
			t.Errorf("Open(%q) did not create that file: %v", name, err)
		}
	}
}

func TestSnapshotsContract(t *testing.T) {
	t.Parallel()
	porttest.TestSnapshots(t, func(t *testing.T) (ports.Ledger, ports.Snapshots) {
		db := openDB(t)
		return db.Ledger(), db.Snapshots()
	})
}

func TestCampaignsContract(t *testing.T) {
	t.Parallel()
	porttest.TestCampaigns(t, func(t *testing.T) ports.Campaigns { return openDB(t).Campaigns() })
}

func TestExecutionsContract(t *testing.T) {
	t.Parallel()
	porttest.TestExecutions(t, func(t *testing.T) ports.Executions { return openDB(t).Executions() })
}

func TestRetailContracts(t *testing.T) {
	t.Parallel()
	t.Run("catalog", func(t *testing.T) {
		porttest.TestCatalog(t, func(t *testing.T) ports.Catalog { return openDB(t).Catalog() })
	})
	t.Run("stock", func(t *testing.T) {
		porttest.TestStock(t, func(t *testing.T) (ports.Catalog, ports.Stock) { db := openDB(t); return db.Catalog(), db.Stock() })
	})
	t.Run("wallets", func(t *testing.T) {
		porttest.TestWallets(t, func(t *testing.T) ports.Wallets { return openDB(t).Wallets() })
	})
	t.Run("orders", func(t *testing.T) {
		porttest.TestOrders(t, func(t *testing.T) ports.Orders { return openDB(t).Orders() })
	})
	t.Run("product search", func(t *testing.T) { porttest.TestProductSearch(t, openDB(t).ProductSearch()) })
	t.Run("sales tallies", func(t *testing.T) { porttest.TestSalesTallies(t, openDB(t).SalesTallies()) })
}

func TestIdentityContracts(t *testing.T) {
	t.Parallel()
	t.Run("users", func(t *testing.T) { porttest.TestUsers(t, openDB(t).Users()) })
	t.Run("api keys", func(t *testing.T) { porttest.TestAPIKeys(t, openDB(t).APIKeys()) })
	t.Run("sessions", func(t *testing.T) { porttest.TestSessions(t, openDB(t).Sessions()) })
	t.Run("throttle", func(t *testing.T) { porttest.TestThrottle(t, openDB(t).Throttle()) })
	t.Run("secrets", func(t *testing.T) { porttest.TestSecrets(t, openDB(t).Secrets()) })
}

// TestIdentityMigrationKeepsCaseVariants: a database from before migration
// 0010 may hold usernames that differ only in case; the migration does not
// fail on them, both still sign in (exact lookups), and no new variant of
// them can be created. The failures table, with the usernames of any size
// it recorded, is gone.
func TestIdentityMigrationKeepsCaseVariants(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "unicorn.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	before, err := filepath.Glob("migrations/000[1-7]_*.sql")
	if err != nil || len(before) != 7 {
		t.Fatalf("migrations 1 to 7: %v, %v", before, err)
	}
	for _, name := range before {
		body, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	const at = "2026-11-21T09:30:00.000000000Z"
	if _, err := raw.Exec(`INSERT INTO users (username, client, role, password_hash, created_at) VALUES
		('derick', 'UnicornStore', 'customer', 'h1', ?), ('Derick', 'UnicornStore', 'customer', 'h2', ?), ('ann', 'UnicornStore', 'admin', 'h3', ?);
		INSERT INTO login_failures (key, at) VALUES (?, ?);
		PRAGMA user_version = 7`, at, at, at, "user:"+strings.Repeat("x", 100_000), at); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	defer db.Close()
	for name, hash := range map[string]string{"derick": "h1", "Derick": "h2", "ann": "h3"} {
		if u, err := db.Users().Get(ctx, name); err != nil || u.PasswordHash != hash {
			t.Errorf("Get(%s) after the migration = %+v, %v", name, u, err)
		}
	}
	for _, name := range []string{"DERICK", "dErick", "ANN"} {
		err := db.Users().Create(ctx, ports.User{Username: name, Client: "UnicornStore", Role: ports.RoleCustomer, PasswordHash: "h", CreatedAt: time.Now()})
		if !errors.Is(err, ports.ErrConflict) {
			t.Errorf("Create(%s) after the migration: %v, want ErrConflict", name, err)
		}
	}
	if err := db.Users().Create(ctx, ports.User{Username: "mia", Client: "UnicornStore", Role: ports.RoleCustomer, PasswordHash: "h", CreatedAt: time.Now()}); err != nil {
		t.Errorf("Create(mia) after the migration: %v", err)
	}
	raw, err = sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'login_failures'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("login_failures after the migration: %d tables, %v", n, err)
	}
}
