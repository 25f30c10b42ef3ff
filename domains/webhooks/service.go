package webhooks

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/unicornstore/unicorn/ports"
)

// Deps are the ports the service runs on.
type Deps struct {
	Store  ports.Webhooks
	Sender ports.WebhookSender
	// Balances is the points read model the expiring scan reads.
	Balances ports.Balances
	// Queue, when set, is handed every delivery to try (the cloud's
	// queue and its deliverer); without it Run polls the store.
	Queue ports.WebhookQueue
	Clock ports.Clock
	IDs   ports.IDs
	// Random makes secrets and jitter (crypto/rand when nil).
	Random io.Reader
	Log    *slog.Logger
}

// Config tunes the service.
type Config struct {
	// AllowPrivate accepts http:// URLs and hosts on private, loopback and
	// link-local addresses: for development and tests, never in production.
	AllowPrivate bool
	// Timeout bounds one attempt (default 10 s).
	Timeout time.Duration
	// Backoff are the waits before each retry (default DefaultBackoff);
	// a delivery is tried len(Backoff)+1 times before it fails.
	Backoff []time.Duration
	// Workers is how many deliveries Run sends at once (default 8).
	Workers int
	// Poll is how often Run looks for deliveries that became due (default
	// 1 s); an enqueue or a replay in this process wakes it at once.
	Poll time.Duration
	// UserAgent is sent with every delivery.
	UserAgent string
}

// Service manages a client's webhook endpoints and delivers events to
// them.
type Service struct {
	d    Deps
	cfg  Config
	rule addressRule
	wake chan struct{}
}

// NewService checks the deps and fills in the defaults.
func NewService(d Deps, c Config) (*Service, error) {
	if d.Store == nil || d.Sender == nil || d.Clock == nil || d.IDs == nil {
		return nil, errors.New("webhooks: a store, a sender, a clock and ids are required")
	}
	if d.Random == nil {
		d.Random = defaultRandom
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Backoff == nil {
		c.Backoff = DefaultBackoff
	}
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.UserAgent == "" {
		c.UserAgent = "UnicornStore-Webhooks/1"
	}
	return &Service{d: d, cfg: c, rule: addressRule{allowPrivate: c.AllowPrivate}, wake: make(chan struct{}, 1)}, nil
}

// MaxAttempts is how many times a delivery is tried before it fails.
func (s *Service) MaxAttempts() int { return len(s.cfg.Backoff) + 1 }

// lease is how long a claimed attempt holds its delivery: the attempt's
// timeout and time to record its outcome.
func (s *Service) lease() time.Duration { return s.cfg.Timeout + time.Minute }

func (s *Service) now() time.Time { return s.d.Clock.Now().UTC() }

// notFound turns the store's not-found into the domain's.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, ports.ErrNotFound) {
		return fmt.Errorf(format+": %w", append(args, ErrNotFound)...)
	}
	return err
}

// CreateEndpoint registers an endpoint for the client and returns it with
// its secret, which is shown this once.
func (s *Service) CreateEndpoint(ctx context.Context, client string, spec EndpointSpec) (*Endpoint, string, error) {
	if err := checkClient(client); err != nil {
		return nil, "", err
	}
	events, err := parseEvents(spec.Events)
	if err != nil {
		return nil, "", err
	}
	days, err := checkExpiringDays(spec.ExpiringDays)
	if err != nil {
		return nil, "", err
	}
	u, err := s.checkURL(ctx, spec.URL)
	if err != nil {
		return nil, "", err
	}
	// Counted before the save, not with it: two creations at once may
	// pass one over the limit, which bounds the work, not an exact count.
	existing, err := s.d.Store.Endpoints(ctx, client)
	if err != nil {
		return nil, "", err
	}
	if len(existing) >= MaxEndpoints {
		return nil, "", fmt.Errorf("client %s has %d webhook endpoints, the most a client may have: %w", client, len(existing), ErrTooManyEndpoints)
	}
	secret, err := newSecret(s.d.Random)
	if err != nil {
		return nil, "", err
	}
	now := s.now()
	e := &Endpoint{id: s.d.IDs.NewID(), client: client, url: u, events: events, secret: secret, expiringDays: days, active: true,
		createdAt: now, updatedAt: now, version: 1}
	if err := s.d.Store.SaveEndpoint(ctx, e.record()); err != nil {
		return nil, "", err
	}
	return e, secret, nil
}

// Endpoint returns one of the client's endpoints.
func (s *Service) Endpoint(ctx context.Context, client, id string) (*Endpoint, error) {
	r, err := s.d.Store.Endpoint(ctx, client, id)
	if err != nil {
		return nil, notFound(err, "webhook endpoint %s", id)
	}
	return endpointFromStore(r), nil
}

// Endpoints lists the client's endpoints, oldest first.
func (s *Service) Endpoints(ctx context.Context, client string) ([]*Endpoint, error) {
	rs, err := s.d.Store.Endpoints(ctx, client)
	if err != nil {
		return nil, err
	}
	out := make([]*Endpoint, 0, len(rs))
	for _, r := range rs {
		out = append(out, endpointFromStore(r))
	}
	return out, nil
}

// UpdateEndpoint changes an endpoint at the version the client saw
// (ErrStale if it moved since).
func (s *Service) UpdateEndpoint(ctx context.Context, client, id string, version int64, c EndpointChange) (*Endpoint, error) {
	e, err := s.Endpoint(ctx, client, id)
	if err != nil {
		return nil, err
	}
	if e.version != version {
		return nil, fmt.Errorf("webhook endpoint %s is at version %d, not %d: %w", id, e.version, version, ErrStale)
	}
	if c.URL != nil {
		if e.url, err = s.checkURL(ctx, *c.URL); err != nil {
			return nil, err
		}
	}
	if c.Events != nil {
		if e.events, err = parseEvents(c.Events); err != nil {
			return nil, err
		}
	}
	if c.ExpiringDays != nil {
		if *c.ExpiringDays == 0 {
			return nil, invalid("expiring_days", "from 1 to %d days", MaxExpiringDays)
		}
		if e.expiringDays, err = checkExpiringDays(*c.ExpiringDays); err != nil {
			return nil, err
		}
	}
	if c.Active != nil {
		e.active = *c.Active
	}
	return e, s.save(ctx, e)
}

// RotateSecret gives the endpoint a new secret, returned this once; the
// old one signs nothing from now on.
func (s *Service) RotateSecret(ctx context.Context, client, id string, version int64) (*Endpoint, string, error) {
	e, err := s.Endpoint(ctx, client, id)
	if err != nil {
		return nil, "", err
	}
	if e.version != version {
		return nil, "", fmt.Errorf("webhook endpoint %s is at version %d, not %d: %w", id, e.version, version, ErrStale)
	}
	if e.secret, err = newSecret(s.d.Random); err != nil {
		return nil, "", err
	}
	if err := s.save(ctx, e); err != nil {
		return nil, "", err
	}
	return e, e.secret, nil
}

// save stores e at its next version.
func (s *Service) save(ctx context.Context, e *Endpoint) error {
	e.version++
	e.updatedAt = s.now()
	err := s.d.Store.SaveEndpoint(ctx, e.record())
	if errors.Is(err, ports.ErrConflict) {
		return fmt.Errorf("webhook endpoint %s: %w", e.id, ErrStale)
	}
	return notFound(err, "webhook endpoint %s", e.id)
}

// DeleteEndpoint removes an endpoint at the version the client saw. Its
// deliveries stay in the log; those still pending fail.
func (s *Service) DeleteEndpoint(ctx context.Context, client, id string, version int64) error {
	err := s.d.Store.DeleteEndpoint(ctx, client, id, version)
	if errors.Is(err, ports.ErrConflict) {
		return fmt.Errorf("webhook endpoint %s: %w", id, ErrStale)
	}
	return notFound(err, "webhook endpoint %s", id)
}

// Delivery returns one of the client's deliveries.
func (s *Service) Delivery(ctx context.Context, client, id string) (*Delivery, error) {
	r, err := s.d.Store.Delivery(ctx, id)
	if err == nil && r.Client != client {
		err = ports.ErrNotFound // another client's: as if there were none
	}
	if err != nil {
		return nil, notFound(err, "webhook delivery %s", id)
	}
	return &Delivery{r}, nil
}

// MaxDeliveriesPage is the most deliveries a page of the log holds.
const MaxDeliveriesPage = 100

// Deliveries pages through the client's delivery log (of one endpoint when
// endpointID is set), newest first. limit 0 is 50.
func (s *Service) Deliveries(ctx context.Context, client, endpointID, cursor string, limit int) ([]*Delivery, string, error) {
	switch {
	case limit == 0:
		limit = 50
	case limit < 1 || limit > MaxDeliveriesPage:
		return nil, "", invalid("limit", "from 1 to %d", MaxDeliveriesPage)
	}
	rs, next, err := s.d.Store.Deliveries(ctx, client, endpointID, cursor, limit)
	if errors.Is(err, ports.ErrBadCursor) {
		return nil, "", invalid("cursor", "not a cursor of this log")
	}
	if err != nil {
		return nil, "", err
	}
	out := make([]*Delivery, 0, len(rs))
	for _, r := range rs {
		out = append(out, &Delivery{r})
	}
	return out, next, nil
}

// Replay sends a delivered or failed delivery of the client's again, now,
// with a fresh round of attempts; the delivery counts its replays. A
// pending one is being tried already: ErrNotReplayable.
func (s *Service) Replay(ctx context.Context, client, id string) (*Delivery, error) {
	d, err := s.Delivery(ctx, client, id)
	if err != nil {
		return nil, err
	}
	r, err := d.replayed(s.now())
	if err != nil {
		return nil, err
	}
	if err := s.d.Store.UpdateDelivery(ctx, r); err != nil {
		if errors.Is(err, ports.ErrConflict) {
			return nil, fmt.Errorf("webhook delivery %s: %w", id, ErrStale)
		}
		return nil, err
	}
	if err := s.handOver(ctx, r); err != nil {
		return nil, err
	}
	return &Delivery{r}, nil
}

// Handle consumes a message of the change stream (ledger events,
// completed purchases and returns): the event it tells of is enqueued
// once for every active endpoint of its client subscribed to it. It is
// idempotent, and returns only once the deliveries are stored: a message
// handed to it again after a crash enqueues nothing new, and one whose
// handling failed is handed to it again. Other messages are ignored.
func (s *Service) Handle(ctx context.Context, m ports.Message) error {
	ev, typ, ok, err := eventOf(m)
	if err != nil || !ok {
		return err
	}
	endpoints, err := s.Endpoints(ctx, ev.Client)
	if err != nil {
		return fmt.Errorf("webhooks for %s: %w", m.Key, err)
	}
	var to []*Endpoint
	for _, e := range endpoints {
		if e.wants(typ) {
			to = append(to, e)
		}
	}
	if err := s.enqueue(ctx, ev, to); err != nil {
		return fmt.Errorf("webhooks for %s: %w", m.Key, err)
	}
	return nil
}

// enqueue stores one delivery of ev per endpoint (those stored already are
// left alone) and hands them to whatever sends them.
func (s *Service) enqueue(ctx context.Context, ev event, to []*Endpoint) error {
	if len(to) == 0 {
		return nil
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", ev.ID, err)
	}
	now := s.now()
	deliveries := make([]ports.WebhookDelivery, 0, len(to))
	for _, e := range to {
		deliveries = append(deliveries, newDelivery(e, ev, body, now))
	}
	if _, err := s.d.Store.Enqueue(ctx, deliveries...); err != nil {
		return err
	}
	// Handed over again even when they were stored already: a crash may
	// have come between the store and the queue. The deliverer skips
	// what is no longer pending.
	return s.handOver(ctx, deliveries...)
}

// handOver tells the sender side of deliveries to try: the queue, where
// there is one, and this process's worker.
func (s *Service) handOver(ctx context.Context, deliveries ...ports.WebhookDelivery) error {
	s.Poke()
	if s.d.Queue == nil {
		return nil
	}
	if err := s.d.Queue.Push(ctx, deliveries...); err != nil {
		return fmt.Errorf("queue webhook deliveries: %w", err)
	}
	return nil
}

// Poke makes Run look for due deliveries now (after the clock was moved,
// for one).
func (s *Service) Poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Deliver makes one attempt at a delivery if it is pending and due (a
// delivery that is not is returned as it is: a queue may hand it over more
// than once, or early), and returns it as the attempt left it: delivered,
// pending with its next attempt's time, or failed after the last attempt.
// A delivery whose endpoint is gone or inactive fails without an attempt.
func (s *Service) Deliver(ctx context.Context, id string) (*Delivery, error) {
	r, err := s.d.Store.Delivery(ctx, id)
	if err != nil {
		return nil, notFound(err, "webhook delivery %s", id)
	}
	d := &Delivery{r}
	now := s.now()
	if !d.due(now) {
		if d.r.Status == ports.WebhookPending && s.d.Queue != nil {
			// Early, or held by an attempt under way: back to the queue
			// until it is due (a queue delays a message by so much only).
			if err := s.d.Queue.Push(ctx, d.r); err != nil {
				return nil, fmt.Errorf("queue webhook delivery %s: %w", id, err)
			}
		}
		return d, nil
	}
	er, err := s.d.Store.Endpoint(ctx, r.Client, r.EndpointID)
	switch {
	case errors.Is(err, ports.ErrNotFound):
		return s.record(ctx, d, d.abandoned(now, "the endpoint was deleted"))
	case err != nil:
		return nil, err
	}
	e := endpointFromStore(er)
	if !e.active {
		return s.record(ctx, d, d.abandoned(now, "the endpoint is inactive"))
	}
	claimed := d.claim(now, s.lease())
	if err := s.d.Store.UpdateDelivery(ctx, claimed); errors.Is(err, ports.ErrConflict) {
		return d, nil // another worker took it
	} else if err != nil {
		return nil, err
	}
	d = &Delivery{claimed}
	res, sendErr := s.send(ctx, e, d)
	if ctx.Err() != nil {
		// Shutting down: the lease brings the delivery back.
		return d, ctx.Err()
	}
	now = s.now()
	if sendErr == nil && res.Status >= 200 && res.Status < 300 {
		return s.record(ctx, d, d.succeeded(now, res.Status))
	}
	reason := ""
	if sendErr != nil {
		reason = sendErr.Error()
	} else {
		reason = fmt.Sprintf("HTTP %d", res.Status)
		if len(res.Body) > 0 {
			reason += ": " + string(res.Body)
		}
	}
	wait := time.Duration(-1)
	if d.r.Attempts < s.MaxAttempts() {
		wait = s.jitter(s.cfg.Backoff[d.r.Attempts-1])
	}
	return s.record(ctx, d, d.failedAttempt(now, res.Status, reason, wait))
}

// record stores an outcome; one that lost a race to another change of the
// delivery (a replay) gives way to it.
func (s *Service) record(ctx context.Context, d *Delivery, next ports.WebhookDelivery) (*Delivery, error) {
	err := s.d.Store.UpdateDelivery(ctx, next)
	if errors.Is(err, ports.ErrConflict) {
		r, err := s.d.Store.Delivery(ctx, d.r.ID)
		if err != nil {
			return nil, err
		}
		return &Delivery{r}, nil
	}
	if err != nil {
		return nil, err
	}
	if next.Status == ports.WebhookPending && s.d.Queue != nil {
		if err := s.d.Queue.Push(ctx, next); err != nil {
			return nil, fmt.Errorf("queue webhook delivery %s: %w", next.ID, err)
		}
	}
	return &Delivery{next}, nil
}

// send makes the attempt: the stored body, signed now.
func (s *Service) send(ctx context.Context, e *Endpoint, d *Delivery) (ports.WebhookResponse, error) {
	ts := strconv.FormatInt(s.now().Unix(), 10)
	sig, err := Sign(e.secret, d.r.EventID, ts, d.r.Payload)
	if err != nil {
		return ports.WebhookResponse{}, fmt.Errorf("sign: %w", err)
	}
	return s.d.Sender.Send(ctx, ports.WebhookRequest{URL: e.url, Body: d.r.Payload, Timeout: s.cfg.Timeout, Allow: s.rule.allow,
		Headers: map[string]string{"Content-Type": "application/json", "User-Agent": s.cfg.UserAgent,
			HeaderID: d.r.EventID, HeaderTimestamp: ts, HeaderSignature: sig}})
}

// jitter moves wait by up to a fifth either way.
func (s *Service) jitter(wait time.Duration) time.Duration {
	var b [8]byte
	if _, err := io.ReadFull(s.d.Random, b[:]); err != nil {
		return wait
	}
	u := float64(binary.BigEndian.Uint64(b[:])>>11) / (1 << 53) // [0, 1)
	return time.Duration(float64(wait) * (0.8 + 0.4*u))
}
