package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// State reads the store's state when the metrics are scraped, so the
// gauges are as fresh as the scrape and cost nothing between scrapes. A
// nil reader leaves its gauges out (the change feed of the DynamoDB
// shape has no outbox, for one).
type State struct {
	// NeedsAttention counts the orders waiting for an operator.
	NeedsAttention func(context.Context) (int, error)
	// Feed reports what each consumer of the change feed (a read model)
	// has yet to consume.
	Feed func(context.Context) ([]ConsumerLag, error)
}

// ConsumerLag is how far one consumer of the change feed is behind.
type ConsumerLag struct {
	Consumer string
	// Pending counts the messages written for it and not yet consumed.
	Pending int64
	// Oldest is when the oldest of them was written; zero when none.
	Oldest time.Time
	// Parked counts its messages that failed every attempt and wait for
	// an operator.
	Parked int64
}

// Watch serves the gauges of s's readers, read at each scrape.
func (m *Metrics) Watch(s State) {
	m.reg.MustRegister(&stateCollector{m: m, s: s})
}

var (
	needsAttentionDesc = prometheus.NewDesc(namespace+"_orders_needing_attention",
		"Orders whose saga could not finish or undo its work and that wait for an operator (GET /orders?status=needs_attention, then retry).", nil, nil)
	pendingDesc = prometheus.NewDesc(namespace+"_outbox_pending_messages",
		"Outbox messages written for a consumer (a read model) and not yet consumed by it.", []string{"consumer"}, nil)
	lagDesc = prometheus.NewDesc(namespace+"_outbox_lag_seconds",
		"Age of the oldest outbox message a consumer has not yet consumed (0 when it is up to date): how stale its read model may be.", []string{"consumer"}, nil)
	parkedDesc = prometheus.NewDesc(namespace+"_outbox_parked_messages",
		"Outbox messages a consumer gave up on after every attempt, waiting for an operator.", []string{"consumer"}, nil)
)

// stateCollector reads State when scraped.
type stateCollector struct {
	m *Metrics
	s State
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	if c.s.NeedsAttention != nil {
		ch <- needsAttentionDesc
	}
	if c.s.Feed != nil {
		ch <- pendingDesc
		ch <- lagDesc
		ch <- parkedDesc
	}
}

// Collect reads the state. A reader that fails leaves its gauges out of
// this scrape, and says why in the log: a gauge that reads 0 because the
// database did not answer would say all is well when it may not be.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	if c.s.NeedsAttention != nil {
		if n, err := c.s.NeedsAttention(ctx); err != nil {
			c.m.log.Warn("metrics: count the orders that need attention", "err", err)
		} else {
			ch <- prometheus.MustNewConstMetric(needsAttentionDesc, prometheus.GaugeValue, float64(n))
		}
	}
	if c.s.Feed != nil {
		lags, err := c.s.Feed(ctx)
		if err != nil {
			c.m.log.Warn("metrics: read the change feed's lag", "err", err)
			return
		}
		now := c.m.now()
		for _, l := range lags {
			age := 0.0
			if !l.Oldest.IsZero() {
				age = max(now.Sub(l.Oldest).Seconds(), 0)
			}
			ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(l.Pending), l.Consumer)
			ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, age, l.Consumer)
			ch <- prometheus.MustNewConstMetric(parkedDesc, prometheus.GaugeValue, float64(l.Parked), l.Consumer)
		}
	}
}
