package main

import (
	"cmp"
	"github.com/unicornstore/unicorn/cmd/internal/compose"

	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/unicornstore/unicorn/adapters/httpapi"
)

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, err := compose.ParseConfig("serve", args, getenv, stderr)
	if err != nil {
		return err
	}
	log := compose.NewLogger(c, stderr)
	a, err := newApp(ctx, c, log, deps{})
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Addr, err)
	}
	if c.Demo {
		// The users first: only a customer has a wallet to fill.
		if err := loadDemoUsers(ctx, a, c.DemoPassword, "http://"+ln.Addr().String(), stdout); err != nil {
			ln.Close()
			return fmt.Errorf("create demo users: %w", err)
		}
		if err := loadDemo(ctx, a); err != nil {
			ln.Close()
			return fmt.Errorf("load demo data: %w", err)
		}
	}
	// A crash between storing an order and starting its saga left the
	// order pending with nothing to move it: start those sagas again.
	if n, err := a.Orders.ResumeStranded(ctx, 0); err != nil {
		ln.Close()
		return fmt.Errorf("resume pending orders: %w", err)
	} else if n > 0 {
		log.Info("pending orders resumed", "orders", n)
	}
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}

	bg, stopBackground := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = a.feed(bg) })
	wg.Go(func() { _ = a.executor.Run(bg) })
	wg.Go(func() { releaseEvery(bg, a, time.Minute) })
	wg.Go(func() { resumeEvery(bg, a, time.Minute) })
	if c.SweepEvery > 0 {
		wg.Go(func() { sweepEvery(bg, a, c.SweepEvery) })
	}
	wg.Go(func() {
		// The outbox worker of webhooks: what the consumers enqueued is
		// delivered, retried with backoff. A store that cannot list due
		// deliveries (DynamoDB: the cloud's queue delivers) has none here.
		if err := a.Webhooks.Run(bg); err != nil && bg.Err() == nil {
			a.log.Warn("webhook deliveries are not sent by this process", "err", err)
		}
	})
	if c.WebhookScanEvery > 0 {
		wg.Go(func() { scanExpiringEvery(bg, a, c.WebhookScanEvery) })
	}

	if c.DebugAddr != "" {
		stopDebug, err := serveDebug(c.DebugAddr, a.metrics.Handler(), log)
		if err != nil {
			ln.Close()
			stopBackground()
			wg.Wait()
			return err
		}
		defer stopDebug()
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	if !httpapi.WebAppBuilt(httpapi.WebAppDir(c.WebAppDir)) {
		log.Warn("the web app is not built: / answers with a page that says so; build it with make webapp", "webapp_dir", c.WebAppDir)
	}
	where := []any{"store", c.Store, "db", c.DBPath}
	if c.Store == "dynamodb" {
		where = []any{"store", c.Store, "tables", c.TablePrefix + "*", "endpoint", cmp.Or(c.DynamoDBEndpoint, "AWS")}
	}
	log.Info("unicorn store listening", append([]any{"url", "http://" + ln.Addr().String()}, append(where, "point_ttl_days", c.TTLDays, "webapp_dir", c.WebAppDir)...)...)

	select {
	case err = <-serveErr:
	case <-ctx.Done():
		log.Info("shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = srv.Shutdown(shutdownCtx)
		cancel()
	}
	// Requests are finished; now the dispatcher and sweeper stop between
	// messages, and the database closes last.
	stopBackground()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// serveDebug serves Go's profiles and the metrics on their own address,
// apart from the API (they show the program's insides, a profile costs
// CPU, and a scrape reads the database): off unless -debug-addr asks, and
// meant for an address on this machine or an operator's network.
func serveDebug(addr string, metrics http.Handler, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on the debug address %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("GET /metrics", metrics)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	base := "http://" + ln.Addr().String()
	log.Info("profiles served", "url", base+"/debug/pprof/")
	log.Info("metrics served", "url", base+"/metrics")
	return func() { _ = srv.Close() }, nil
}

// releaseEvery gives back stock held by reservations past their expiry.
func releaseEvery(ctx context.Context, a *app, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := a.Orders.ReleaseExpired(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			a.log.Error("release expired reservations", "err", err)
		case n > 0:
			a.log.Warn("released expired stock reservations", "orders", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// resumeEvery starts again, every interval, the sagas of orders pending
// for longer than an interval: one whose saga was never started (its
// request failed between the two) moves on without the client's retry.
func resumeEvery(ctx context.Context, a *app, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := a.Orders.ResumeStranded(ctx, every); err != nil && ctx.Err() == nil {
			a.log.Error("resume pending orders", "err", err)
		}
	}
}

// scanExpiringEvery looks for points about to expire, now and then every
// interval, for the endpoints subscribed to points.expiring.
func scanExpiringEvery(ctx context.Context, a *app, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := a.Webhooks.ScanExpiring(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("points.expiring scan", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweepEvery expires due points now and then every interval.
func sweepEvery(ctx context.Context, a *app, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		res, err := a.Sweeper.Sweep(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			a.log.Error("expiry sweep", "err", err)
		case res.Accounts > 0 || res.Matured > 0:
			a.log.Info("expiry sweep", "accounts", res.Accounts, "points", res.Points, "matured", res.Matured)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
