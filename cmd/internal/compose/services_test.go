package compose

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/unicornstore/unicorn/adapters/sqlite"
	"github.com/unicornstore/unicorn/domains/retail"
	"github.com/unicornstore/unicorn/ports"
)

// noSecrets fails the test on any use of the token signing key.
type noSecrets struct{ t *testing.T }

func (s noSecrets) Secret(context.Context, string, func() ([]byte, error)) ([]byte, error) {
	s.t.Error("the signing key was read")
	return nil, errors.New("no secrets here")
}

type noSagas struct{ ports.Sagas }

// TestNoIdentity: services built without identity never read the token
// signing key (the saga tasks, stream consumers and sweeps of the cloud
// shape run so), and cannot serve HTTP.
func TestNoIdentity(t *testing.T) {
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "u.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stores := SQLiteStores(db)
	stores.Secrets = noSecrets{t}
	v, err := NewServices(t.Context(), Defaults(), stores, Deps{NoIdentity: true}, func(*retail.Steps) (Runners, error) { return Runners{Purchases: noSagas{}, Returns: noSagas{}}, nil })
	if err != nil {
		t.Fatal(err)
	}
	if v.Identity != nil || v.Signer != nil || v.Steps == nil || v.Orders == nil {
		t.Errorf("services without identity: %+v", v)
	}
	if _, err := v.Handler(); err == nil {
		t.Error("an HTTP handler without identity")
	}
}
