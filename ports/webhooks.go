package ports

import (
	"context"
	"encoding/json"
	"net/netip"
	"time"
)

// Webhook delivery statuses.
const (
	// WebhookPending: to be tried (again) at NextAttemptAt.
	WebhookPending = "pending"
	// WebhookDelivered: the endpoint answered 2xx.
	WebhookDelivered = "delivered"
	// WebhookFailed: given up on, after the last attempt or because its
	// endpoint is gone. An admin may replay it.
	WebhookFailed = "failed"
)

// WebhookRetention is how long a store must keep a delivery after it was
// created. A store may forget it later: DynamoDB's time to live does, and
// the one-machine worker calls ForgetDeliveries.
const WebhookRetention = 90 * 24 * time.Hour

// WebhookEndpoint is a client's webhook endpoint as stored. Which URLs,
// events and secrets are acceptable is the webhooks domain's rule; storage
// keeps versions.
type WebhookEndpoint struct {
	ID     string
	Client string
	URL    string
	Events []string // the event types it is sent
	// Secret signs its deliveries: the domain's encoding ("whsec_...").
	Secret string
	// ExpiringDays is how many days before a lot expires the endpoint is
	// told so (points.expiring).
	ExpiringDays int
	Active       bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Version      int64 // 1 when created, +1 for every change
}

// WebhookDelivery is one event to send to one endpoint, and how sending it
// went. Its ID is made of the endpoint's and the event's, so that the same
// event is enqueued once per endpoint however often it is seen.
type WebhookDelivery struct {
	ID         string
	EndpointID string
	Client     string
	EventID    string
	EventType  string
	// Payload is the body every attempt sends, as the domain encoded it.
	Payload       json.RawMessage
	Status        string // WebhookPending, WebhookDelivered, WebhookFailed
	Attempts      int
	NextAttemptAt time.Time // when pending: not before
	LastAttemptAt time.Time // zero before the first attempt
	LastStatus    int       // the last answer's HTTP status, 0 for none
	LastError     string
	Replays       int // times an admin sent it again
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Version       int64 // 1 when enqueued, +1 for every change
}

// Webhooks stores webhook endpoints and their deliveries (the delivery
// log). Endpoints and deliveries are scoped by client: a client never
// reads another's.
type Webhooks interface {
	// SaveEndpoint stores e: new when e.Version is 1 (ErrConflict if the
	// id exists), else replacing version e.Version-1 of the client's
	// endpoint (ErrConflict if it moved, ErrNotFound if there is none).
	SaveEndpoint(ctx context.Context, e WebhookEndpoint) error
	// Endpoint returns one of the client's endpoints, or ErrNotFound (also
	// for another client's).
	Endpoint(ctx context.Context, client, id string) (WebhookEndpoint, error)
	// Endpoints returns every endpoint of the client, oldest first.
	Endpoints(ctx context.Context, client string) ([]WebhookEndpoint, error)
	// DeleteEndpoint removes the client's endpoint at version
	// (ErrConflict, ErrNotFound). Its deliveries stay in the log.
	DeleteEndpoint(ctx context.Context, client, id string, version int64) error

	// Enqueue stores new deliveries (Version 1). A delivery whose id is
	// stored already is left as it is: enqueueing is idempotent. It
	// returns how many were new.
	Enqueue(ctx context.Context, deliveries ...WebhookDelivery) (int, error)
	// Delivery returns a delivery, or ErrNotFound.
	Delivery(ctx context.Context, id string) (WebhookDelivery, error)
	// UpdateDelivery stores d in place of version d.Version-1
	// (ErrConflict if it moved, ErrNotFound if there is none).
	UpdateDelivery(ctx context.Context, d WebhookDelivery) error
	// Deliveries pages through the client's deliveries, of one endpoint
	// when endpointID is set, newest first (by CreatedAt, then id); cursor
	// "" starts, and the cursor returned is "" at the end.
	Deliveries(ctx context.Context, client, endpointID, cursor string, limit int) ([]WebhookDelivery, string, error)
	// DueDeliveries returns up to limit pending deliveries whose
	// NextAttemptAt is at or before now, the longest due first: the queue
	// of the one-machine worker. A store that cannot list them (DynamoDB:
	// the cloud hands deliveries to a queue instead, see WebhookQueue)
	// returns an error that is errors.ErrUnsupported.
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]WebhookDelivery, error)
	// ForgetDeliveries deletes up to limit finished deliveries (delivered
	// or failed) created before before, the oldest first, and returns how
	// many it deleted: the one-machine worker's pruning of the log after
	// WebhookRetention. A pending delivery stays, however old. A store
	// that forgets them on its own (DynamoDB: its time to live) returns an
	// error that is errors.ErrUnsupported.
	ForgetDeliveries(ctx context.Context, before time.Time, limit int) (int, error)
}

// WebhookQueue hands pending deliveries to what sends them where the
// store cannot be polled for them (the cloud: an SQS queue and a deliverer
// function). At least once: the deliverer skips a delivery that is no
// longer pending and holds back one that is not due yet.
type WebhookQueue interface {
	// Push queues the deliveries, each to be tried at its NextAttemptAt.
	Push(ctx context.Context, deliveries ...WebhookDelivery) error
}

// WebhookRequest is one attempt to deliver a webhook: a POST of Body with
// Headers to URL.
type WebhookRequest struct {
	URL     string
	Headers map[string]string
	Body    []byte
	// Timeout bounds the whole attempt, from the connection to the
	// answer's body.
	Timeout time.Duration
	// Allow is asked about every address the sender is about to connect
	// to (after resolving the URL's host, at the time of the attempt); an
	// error refuses the address. A sender never connects without asking.
	Allow func(netip.Addr) error
}

// WebhookResponse is what an endpoint answered.
type WebhookResponse struct {
	Status int
	// Body is the start of the answer's body (a sender reads at most
	// WebhookResponseLimit bytes of it).
	Body []byte
}

// WebhookResponseLimit is the most of an answer's body a sender reads.
const WebhookResponseLimit = 4 << 10

// WebhookSender sends webhooks over the network. It follows no redirect
// (a 3xx is an answer like any other) and uses no proxy.
type WebhookSender interface {
	// Send makes one attempt. A network failure, a refused address or a
	// timeout is an error; any HTTP answer is a response.
	Send(ctx context.Context, r WebhookRequest) (WebhookResponse, error)
	// Resolve returns the addresses a host name resolves to (an IP
	// literal resolves to itself).
	Resolve(ctx context.Context, host string) ([]netip.Addr, error)
}
