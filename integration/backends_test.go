package integration

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/unicornstore/unicorn/adapters/dynamodb/dynamotest"
	"github.com/unicornstore/unicorn/adapters/sqlite"
	"github.com/unicornstore/unicorn/ports"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

// stores are the ports of one backend.
type stores struct {
	ledger    ports.Ledger
	balances  ports.Balances
	snapshots ports.Snapshots
	campaigns ports.Campaigns
	catalog   ports.Catalog
	stock     ports.Stock
	wallets   ports.Wallets
	orders    ports.Orders
}

// backend is one storage the domains run on.
type backend struct {
	name string
	open func(t *testing.T) stores
}

var backends = []backend{
	{"sqlite", func(t *testing.T) stores {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "unicorn.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return stores{db.Ledger(), db.Balances(), db.Snapshots(), db.Campaigns(), db.Catalog(), db.Stock(), db.Wallets(), db.Orders()}
	}},
	{"dynamodb", func(t *testing.T) stores {
		s := dynamotest.NewStore(t)
		return stores{s.Ledger(), s.Balances(), s.Snapshots(), s.Campaigns(), s.Catalog(), s.Stock(), s.Wallets(), s.Orders()}
	}},
}

// eachBackend runs test once per backend, in parallel.
func eachBackend(t *testing.T, test func(t *testing.T, st stores)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			test(t, b.open(t))
		})
	}
}
