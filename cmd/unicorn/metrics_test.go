package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The metrics are served on the debug address, never the API's, and say
// what the store did: the requests by route pattern (never by the path a
// caller made up), the saga that completed a purchase, a failed sign-in,
// the commits, the outbox each read model has yet to consume, the orders
// that need attention, Go's runtime and the process.
func TestMetricsOnTheDebugAddress(t *testing.T) {
	t.Parallel()
	p := startServe(t, filepath.Join(t.TempDir(), "unicorn.db"), "UNICORN_DEBUG_ADDR=127.0.0.1:0")
	m := regexp.MustCompile(`msg="metrics served" url=(http://\S+)`).FindStringSubmatch(p.log())
	if m == nil {
		t.Fatalf("no metrics address in the log:\n%s", p.log())
	}
	metricsURL := m[1]
	if status, _, err := call("GET", p.url+"/metrics", ""); err != nil || status != http.StatusNotFound {
		t.Errorf("metrics on the API's address: %d %v", status, err)
	}

	auth := signIn(t, p.url, "derick")
	status, body, err := call("POST", p.url+"/purchase", `{"userId":"derick","productId":"1","quantity":1}`, "Authorization", auth)
	var order struct{ ID, Status string }
	if err != nil || status != http.StatusCreated || json.Unmarshal(body, &order) != nil || order.Status != "completed" {
		t.Fatalf("purchase: %d %v %s", status, err, body)
	}
	for range 2 {
		if status, body, err := call("GET", p.url+"/orders/"+order.ID, "", "Authorization", auth); err != nil || status != http.StatusOK {
			t.Fatalf("GET /orders/%s: %d %v %s", order.ID, status, err, body)
		}
	}
	if status, body, err := call("GET", p.url+"/orders/no-such-order", "", "Authorization", auth); err != nil || status != http.StatusNotFound {
		t.Fatalf("GET /orders/no-such-order: %d %v %s", status, err, body)
	}
	if status, body, err := call("POST", p.url+"/auth/token", `{"username":"derick","password":"not derick's password"}`); err != nil || status != http.StatusUnauthorized {
		t.Fatalf("sign in with a wrong password: %d %v %s", status, err, body)
	}
	if status, _, err := call("GET", p.url+"/a/path/a/caller/made/up", ""); err != nil || status != http.StatusNotFound {
		t.Fatalf("an unrouted request: %d %v", status, err)
	}

	// The saga's end is stored with its last step, and the purchase's
	// event reaches the sales read model a moment later: scrape until
	// both show.
	var f map[string]*dto.MetricFamily
	eventually(t, "the saga's end and the delivered purchase in the metrics", func() bool {
		f = scrape(t, metricsURL)
		ended := value(f, "unicorn_saga_executions_ended_total", `state_machine="purchase",status="SUCCEEDED"`)
		pending := value(f, "unicorn_outbox_pending_messages", `consumer="sales-tallies"`)
		return ended != nil && *ended >= 1 && pending != nil && *pending == 0
	})

	requests := []struct {
		labels string
		count  uint64
	}{
		{`code="200",route="POST /auth/token"`, 1},
		{`code="401",route="POST /auth/token"`, 1},
		{`code="201",route="POST /purchase"`, 1},
		{`code="200",route="GET /orders/{id}"`, 2},
		{`code="404",route="GET /orders/{id}"`, 1},
		{`code="404",route="unrouted"`, 2}, // /metrics on the API's address, and the made-up path
	}
	for _, r := range requests {
		h := histogram(f, "unicorn_http_request_duration_seconds", r.labels)
		if h == nil || h.GetSampleCount() != r.count || h.GetSampleSum() <= 0 {
			t.Errorf("unicorn_http_request_duration_seconds{%s} = %v, want %d requests", r.labels, h, r.count)
		}
	}
	for _, s := range f["unicorn_http_request_duration_seconds"].GetMetric() {
		if l := labelsOf(s); strings.Contains(l, "made/up") || strings.Contains(l, order.ID) {
			t.Errorf("a request is measured under the path it was sent to: %s", l)
		}
	}
	gauges := []struct {
		name, labels string
		want         float64
	}{
		{"unicorn_sign_in_failures_total", `reason="bad_credentials"`, 1},
		{"unicorn_orders_needing_attention", "", 0},
		{"unicorn_outbox_pending_messages", `consumer="points-read-model"`, -1}, // present, whatever the value
		{"unicorn_outbox_pending_messages", `consumer="product-search"`, -1},
		{"unicorn_outbox_lag_seconds", `consumer="sales-tallies"`, 0},
		{"unicorn_outbox_parked_messages", `consumer="sales-tallies"`, 0},
		{"go_goroutines", "", -1},
		{"process_resident_memory_bytes", "", -1},
	}
	for _, g := range gauges {
		v := value(f, g.name, g.labels)
		if v == nil || g.want >= 0 && *v != g.want {
			t.Errorf("%s{%s} = %v, want %g", g.name, g.labels, v, g.want)
		}
	}
	if h := histogram(f, "unicorn_saga_execution_duration_seconds", `state_machine="purchase",status="SUCCEEDED"`); h == nil || h.GetSampleCount() < 1 {
		t.Errorf("no duration of the purchase's saga: %v", h)
	}
	// The demo data, the users, the purchase: all of it committed.
	for _, name := range []string{"unicorn_sqlite_commit_duration_seconds", "unicorn_sqlite_commit_writes"} {
		if h := histogram(f, name, ""); h == nil || h.GetSampleCount() < 1 || len(h.GetBucket()) < 8 {
			t.Errorf("%s = %v, want commits in buckets", name, h)
		}
	}
}

// scrape reads the metrics at url in Prometheus's text format.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	status, body, err := call("GET", url, "")
	if err != nil || status != http.StatusOK {
		t.Fatalf("scrape %s: %d %v\n%s", url, status, err, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	f, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("scrape %s: %v\n%s", url, err, body)
	}
	return f
}

// labelsOf writes a sample's labels as they are in the text format:
// name="value",..., sorted by name.
func labelsOf(m *dto.Metric) string {
	var out []string
	for _, l := range m.GetLabel() {
		out = append(out, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	return strings.Join(out, ",")
}

func find(f map[string]*dto.MetricFamily, name, labels string) *dto.Metric {
	for _, m := range f[name].GetMetric() {
		if labelsOf(m) == labels {
			return m
		}
	}
	return nil
}

// value is the value of a counter or gauge sample, nil when there is none.
func value(f map[string]*dto.MetricFamily, name, labels string) *float64 {
	m := find(f, name, labels)
	switch {
	case m == nil:
		return nil
	case m.Counter != nil:
		v := m.GetCounter().GetValue()
		return &v
	case m.Gauge != nil:
		v := m.GetGauge().GetValue()
		return &v
	case m.Untyped != nil:
		v := m.GetUntyped().GetValue()
		return &v
	}
	return nil
}

func histogram(f map[string]*dto.MetricFamily, name, labels string) *dto.Histogram {
	if m := find(f, name, labels); m != nil {
		return m.GetHistogram()
	}
	return nil
}
