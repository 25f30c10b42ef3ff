package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/adapters/sagatasks"
	"github.com/unicornstore/unicorn/adapters/sqlite"
	"github.com/unicornstore/unicorn/cmd/internal/compose"
	"github.com/unicornstore/unicorn/domains/retail"
	"github.com/unicornstore/unicorn/orchestration"
	"github.com/unicornstore/unicorn/orchestration/executor"
)

// deployment is one shape of the store under test: the cloud shape, or
// one machine (SQLite and the local executor), whose ends the cloud's
// must match.
type deployment interface {
	call(t *testing.T, method, path, token, body string, headers ...string) (status int, respBody string)
	services() *compose.Services
	stores() compose.Stores
	storeClient() string
	// returnRun is how the attempt-th saga run of an order's return
	// ended, as the shape's workflow runtime tells it, or "" while it
	// runs.
	returnRun(t *testing.T, orderID, returnID string, attempt int) string
}

// local is the one-machine shape, in the test process: the same
// composition as unicorn serve.
type local struct {
	svc     *compose.Services
	st      compose.Stores
	handler http.Handler
	client  string
}

func startLocal(t *testing.T) *local {
	t.Helper()
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "unicorn.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.DiscardHandler)
	ex, err := executor.New(executor.Config{Store: db.Executions(), Clock: clock.System{}, IDs: clock.UUIDs{}, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	cfg := compose.Defaults()
	l := &local{st: compose.SQLiteStores(db), client: cfg.StoreClient}
	l.svc, err = compose.NewServices(ctx, cfg, l.st, compose.Deps{Log: log, Hash: testHash},
		func(steps *retail.Steps) (compose.Runners, error) {
			if err := ex.Register(orchestration.PurchaseMachine, orchestration.Purchase, sagatasks.Handlers(steps, nil)); err != nil {
				return compose.Runners{}, err
			}
			if err := ex.Register(orchestration.ReturnMachine, orchestration.Return, sagatasks.ReturnHandlers(steps, nil)); err != nil {
				return compose.Runners{}, err
			}
			return compose.Runners{Purchases: ex.Sagas(orchestration.PurchaseMachine), Returns: ex.Sagas(orchestration.ReturnMachine)}, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if l.handler, err = l.svc.Handler(); err != nil {
		t.Fatal(err)
	}
	dispatcher := db.NewDispatcher(log)
	for _, c := range l.svc.Consumers() {
		dispatcher.Subscribe(c.Name, c.Handle, c.Topic)
	}
	bg, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = ex.Run(bg) })
	wg.Go(func() { _ = dispatcher.Run(bg) })
	t.Cleanup(func() { stop(); wg.Wait() })
	return l
}

func (l *local) call(t *testing.T, method, path, token, body string, headers ...string) (int, string) {
	t.Helper()
	r := httptest.NewRequestWithContext(t.Context(), method, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	l.handler.ServeHTTP(w, r)
	b, _ := io.ReadAll(w.Result().Body)
	return w.Code, string(b)
}

func (l *local) services() *compose.Services { return l.svc }
func (l *local) stores() compose.Stores      { return l.st }
func (l *local) storeClient() string         { return l.client }
