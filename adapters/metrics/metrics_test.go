package metrics

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// gather scrapes m over HTTP, as Prometheus would, and returns what it
// served, and the metric families by name.
func gather(t *testing.T, m *Metrics) (text string, families map[string]*dto.MetricFamily) {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %d %v\n%s", resp.StatusCode, err, b)
	}
	all, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	families = map[string]*dto.MetricFamily{}
	for _, f := range all {
		families[f.GetName()] = f
	}
	return string(b), families
}

// labels writes a sample's labels as name=value,... (sorted by name).
func labels(m *dto.Metric) string {
	var out []string
	for _, l := range m.GetLabel() {
		out = append(out, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(out, ",")
}

// sample finds the sample of family name with the labels, or nil.
func sample(families map[string]*dto.MetricFamily, name, lbls string) *dto.Metric {
	for _, m := range families[name].GetMetric() {
		if labels(m) == lbls {
			return m
		}
	}
	return nil
}

func TestHooksBecomeSeries(t *testing.T) {
	t.Parallel()
	m := New(slog.New(slog.DiscardHandler))
	m.Request("GET /orders/{id}", 200, 3*time.Millisecond)
	m.Request("GET /orders/{id}", 200, 30*time.Millisecond)
	m.Request("unrouted", 404, time.Millisecond)
	m.SignInFailed("bad_credentials")
	m.SagaEnded("purchase", "SUCCEEDED", 40*time.Millisecond)
	m.SagaEnded("purchase", "FAILED", 2*time.Second)
	m.SagaEnded("purchase", "SUCCEEDED", 60*time.Millisecond)
	m.Commit(1, 2*time.Millisecond)
	m.Commit(12, 4*time.Millisecond)
	text, f := gather(t, m)

	histograms := []struct {
		name, labels string
		count        uint64
		sum          float64
	}{
		{"unicorn_http_request_duration_seconds", "code=200,route=GET /orders/{id}", 2, .033},
		{"unicorn_http_request_duration_seconds", "code=404,route=unrouted", 1, .001},
		{"unicorn_saga_execution_duration_seconds", "state_machine=purchase,status=SUCCEEDED", 2, .1},
		{"unicorn_saga_execution_duration_seconds", "state_machine=purchase,status=FAILED", 1, 2},
		{"unicorn_sqlite_commit_duration_seconds", "", 2, .006},
		{"unicorn_sqlite_commit_writes", "", 2, 13},
	}
	for _, h := range histograms {
		s := sample(f, h.name, h.labels)
		if s == nil {
			t.Errorf("no %s{%s} in:\n%s", h.name, h.labels, text)
			continue
		}
		if got := s.GetHistogram(); got.GetSampleCount() != h.count || !near(got.GetSampleSum(), h.sum) || len(got.GetBucket()) == 0 {
			t.Errorf("%s{%s}: count %d, sum %g, %d buckets; want %d, %g and buckets", h.name, h.labels,
				got.GetSampleCount(), got.GetSampleSum(), len(got.GetBucket()), h.count, h.sum)
		}
	}
	counters := []struct {
		name, labels string
		value        float64
	}{
		{"unicorn_sign_in_failures_total", "reason=bad_credentials", 1},
		{"unicorn_saga_executions_ended_total", "state_machine=purchase,status=SUCCEEDED", 2},
		{"unicorn_saga_executions_ended_total", "state_machine=purchase,status=FAILED", 1},
	}
	for _, c := range counters {
		if s := sample(f, c.name, c.labels); s == nil || s.GetCounter().GetValue() != c.value {
			t.Errorf("%s{%s} = %v, want %g", c.name, c.labels, s, c.value)
		}
	}
	// The batch sizes fall in buckets that double up to the group's cap.
	writes := sample(f, "unicorn_sqlite_commit_writes", "").GetHistogram()
	for _, b := range writes.GetBucket() {
		want := uint64(0)
		if b.GetUpperBound() >= 1 {
			want = 1
		}
		if b.GetUpperBound() >= 12 {
			want = 2
		}
		if b.GetCumulativeCount() != want {
			t.Errorf("commits of at most %g writes: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
		}
	}
	if last := writes.GetBucket()[len(writes.GetBucket())-1].GetUpperBound(); last != 128 {
		t.Errorf("the largest bucket of writes is %g, want 128 (the most a group holds)", last)
	}
	// Go's runtime and the process are there too.
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes", "process_cpu_seconds_total"} {
		if f[name] == nil {
			t.Errorf("no %s in:\n%s", name, text)
		}
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

// The state is read at each scrape; a reader that fails leaves its gauges
// out (never a reassuring 0) and the rest is still served.
func TestStateIsReadAtScrape(t *testing.T) {
	t.Parallel()
	m := New(slog.New(slog.DiscardHandler))
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	m.now = func() time.Time { return now }
	attention := 0
	var feedErr error
	m.Watch(State{
		NeedsAttention: func(context.Context) (int, error) { return attention, nil },
		Feed: func(context.Context) ([]ConsumerLag, error) {
			return []ConsumerLag{
				{Consumer: "points-read-model", Pending: 7, Oldest: now.Add(-90 * time.Second), Parked: 1},
				{Consumer: "sales-tallies"},
			}, feedErr
		},
	})

	_, f := gather(t, m)
	gauges := []struct {
		name, labels string
		value        float64
	}{
		{"unicorn_orders_needing_attention", "", 0},
		{"unicorn_outbox_pending_messages", "consumer=points-read-model", 7},
		{"unicorn_outbox_lag_seconds", "consumer=points-read-model", 90},
		{"unicorn_outbox_parked_messages", "consumer=points-read-model", 1},
		{"unicorn_outbox_pending_messages", "consumer=sales-tallies", 0},
		{"unicorn_outbox_lag_seconds", "consumer=sales-tallies", 0},
	}
	for _, g := range gauges {
		if s := sample(f, g.name, g.labels); s == nil || s.GetGauge().GetValue() != g.value {
			t.Errorf("%s{%s} = %v, want %g", g.name, g.labels, s, g.value)
		}
	}

	attention, feedErr = 3, errors.New("database is locked")
	text, f := gather(t, m)
	if s := sample(f, "unicorn_orders_needing_attention", ""); s == nil || s.GetGauge().GetValue() != 3 {
		t.Errorf("orders needing attention after a change = %v, want 3", s)
	}
	for _, name := range []string{"unicorn_outbox_pending_messages", "unicorn_outbox_lag_seconds", "unicorn_outbox_parked_messages"} {
		if f[name] != nil {
			t.Errorf("%s served though its reader failed:\n%s", name, text)
		}
	}
}
