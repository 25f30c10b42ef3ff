// Package metrics keeps the store's Prometheus metrics for operators. It
// implements the small hooks the other packages declare (the API's
// Metrics, the saga executor's Ended, the SQLite writer's commit
// observer) and reads gauges of the store's state when it is scraped, so
// that only this package knows Prometheus. Its registry is its own, not
// the process-wide default one: what it serves is exactly what it lists
// here, whatever a library registers elsewhere.
package metrics

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace prefixes every metric of the store.
const namespace = "unicorn"

// Metrics are the store's metrics and the registry that serves them.
type Metrics struct {
	reg *prometheus.Registry
	log *slog.Logger
	now func() time.Time // the age of the oldest pending message is taken from it

	requests    *prometheus.HistogramVec
	signIns     *prometheus.CounterVec
	sagas       *prometheus.CounterVec
	sagaTime    *prometheus.HistogramVec
	commitTime  prometheus.Histogram
	commitSizes prometheus.Histogram
}

// New returns the metrics, with Go's runtime and the process's own
// (memory, CPU, open files) among them.
func New(log *slog.Logger) *Metrics {
	if log == nil {
		log = slog.Default()
	}
	m := &Metrics{reg: prometheus.NewRegistry(), log: log, now: time.Now}
	m.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "http_request_duration_seconds",
		Help: "Time to answer an API request, by the pattern of the route that took it (\"unrouted\" for none) and the status code.",
		// From a cached read to a purchase that waits for its saga.
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route", "code"})
	m.signIns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "sign_in_failures_total",
		Help: "Sign-ins refused, by reason: bad_credentials, throttled, invalid or error.",
	}, []string{"reason"})
	m.sagas = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "saga_executions_ended_total",
		Help: "Saga executions this process ended, by state machine and terminal status (SUCCEEDED, FAILED, TIMED_OUT, ABORTED).",
	}, []string{"state_machine", "status"})
	m.sagaTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "saga_execution_duration_seconds",
		Help: "Time from the start of a saga execution to its end, by state machine and terminal status.",
		// A purchase takes milliseconds; one retrying a step with
		// backoff, minutes.
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900},
	}, []string{"state_machine", "status"})
	m.commitTime = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Name: "sqlite_commit_duration_seconds",
		Help: "Time of one group commit of the SQLite writer, BEGIN to COMMIT, the fsync included.",
		// An fsync costs from a tenth of a millisecond (a cache that
		// lies) to tens of milliseconds (a disk that does not).
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
	})
	m.commitSizes = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Name: "sqlite_commit_writes",
		Help:    "Write transactions that shared one group commit (at most 128).",
		Buckets: prometheus.ExponentialBuckets(1, 2, 8), // 1 to 128
	})
	m.reg.MustRegister(m.requests, m.signIns, m.sagas, m.sagaTime, m.commitTime, m.commitSizes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in Prometheus's formats. A scrape that fails
// to read part of the state still gets the rest.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
		// Scrapes read the database: a few at once are plenty.
		MaxRequestsInFlight: 4,
		Timeout:             scrapeTimeout,
	})
}

// scrapeTimeout bounds a scrape, and the state reads within it.
const scrapeTimeout = 10 * time.Second

// Request records the time of an API request (the API's Metrics).
func (m *Metrics) Request(route string, status int, took time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Observe(took.Seconds())
}

// SignInFailed counts a refused sign-in (the API's Metrics).
func (m *Metrics) SignInFailed(reason string) {
	m.signIns.WithLabelValues(reason).Inc()
}

// SagaEnded records an execution the saga executor ended (its Ended).
func (m *Metrics) SagaEnded(stateMachine, status string, took time.Duration) {
	m.sagas.WithLabelValues(stateMachine, status).Inc()
	m.sagaTime.WithLabelValues(stateMachine, status).Observe(took.Seconds())
}

// Commit records one group commit of the SQLite writer (its commit
// observer).
func (m *Metrics) Commit(writes int, took time.Duration) {
	m.commitTime.Observe(took.Seconds())
	m.commitSizes.Observe(float64(writes))
}
