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

// backend is one storage the points domain runs on.
type backend struct {
	name string
	open func(t *testing.T) (ports.Ledger, ports.Balances)
}

var backends = []backend{
	{"sqlite", func(t *testing.T) (ports.Ledger, ports.Balances) {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "unicorn.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db.Ledger(), db.Balances()
	}},
	{"dynamodb", func(t *testing.T) (ports.Ledger, ports.Balances) {
		s := dynamotest.NewStore(t)
		return s.Ledger(), s.Balances()
	}},
}

// eachBackend runs test once per backend, in parallel.
func eachBackend(t *testing.T, test func(t *testing.T, ledger ports.Ledger, balances ports.Balances)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ledger, balances := b.open(t)
			test(t, ledger, balances)
		})
	}
}
