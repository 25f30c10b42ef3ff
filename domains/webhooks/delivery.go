package webhooks

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/unicornstore/unicorn/ports"
)

// Status is where a delivery is.
type Status struct{ s string }

// Delivery statuses.
var (
	// Pending: to be tried (again) at NextAttemptAt.
	Pending = Status{ports.WebhookPending}
	// Delivered: the endpoint answered 2xx.
	Delivered = Status{ports.WebhookDelivered}
	// Failed: given up on (see LastError); an admin may replay it.
	Failed = Status{ports.WebhookFailed}
)

func (s Status) String() string { return s.s }

// MarshalText writes the status's name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.s), nil }

// DefaultBackoff is the wait before each retry: after the first failed
// attempt 30 s, then 2 min, ..., 12 attempts over about three days, each
// wait moved by up to a fifth either way (jitter) so that the retries of
// many deliveries to an endpoint that was down do not arrive together.
var DefaultBackoff = []time.Duration{
	30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour,
	4 * time.Hour, 8 * time.Hour, 16 * time.Hour, 16 * time.Hour, 24 * time.Hour,
}

// maxErrorLength bounds the error a delivery keeps of its last attempt.
const maxErrorLength = 300

// Delivery is one event sent to one endpoint, and how sending it went.
type Delivery struct{ r ports.WebhookDelivery }

func (d *Delivery) ID() string         { return d.r.ID }
func (d *Delivery) EndpointID() string { return d.r.EndpointID }
func (d *Delivery) Client() string     { return d.r.Client }
func (d *Delivery) EventID() string    { return d.r.EventID }
func (d *Delivery) EventType() string  { return d.r.EventType }

// Payload is the body every attempt sends.
func (d *Delivery) Payload() json.RawMessage { return d.r.Payload }
func (d *Delivery) Status() Status           { return Status{d.r.Status} }

// Attempts counts the attempts made since it was enqueued or last
// replayed (an attempt cut short by a crash counts).
func (d *Delivery) Attempts() int { return d.r.Attempts }

// NextAttemptAt is when a pending delivery is tried next.
func (d *Delivery) NextAttemptAt() time.Time { return d.r.NextAttemptAt }
func (d *Delivery) LastAttemptAt() time.Time { return d.r.LastAttemptAt }

// LastStatus is the HTTP status of the last answer, 0 for none.
func (d *Delivery) LastStatus() int      { return d.r.LastStatus }
func (d *Delivery) LastError() string    { return d.r.LastError }
func (d *Delivery) Replays() int         { return d.r.Replays }
func (d *Delivery) CreatedAt() time.Time { return d.r.CreatedAt }
func (d *Delivery) UpdatedAt() time.Time { return d.r.UpdatedAt }
func (d *Delivery) Version() int64       { return d.r.Version }

// deliveryID is made of the endpoint's id and the event's: an event is
// one delivery per endpoint, however often it is enqueued.
func deliveryID(endpointID, eventID string) string { return endpointID + "." + eventID }

func newDelivery(e *Endpoint, ev event, body []byte, now time.Time) ports.WebhookDelivery {
	return ports.WebhookDelivery{ID: deliveryID(e.id, ev.ID), EndpointID: e.id, Client: e.client, EventID: ev.ID, EventType: ev.Type,
		Payload: body, Status: ports.WebhookPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now, Version: 1}
}

// due says whether the delivery is to be tried at now.
func (d *Delivery) due(now time.Time) bool {
	return d.r.Status == ports.WebhookPending && !d.r.NextAttemptAt.After(now)
}

// next is the record of the delivery's next version.
func (d *Delivery) next(now time.Time) ports.WebhookDelivery {
	r := d.r
	r.Version++
	r.UpdatedAt = now
	return r
}

// claim counts an attempt about to be made and holds the delivery for
// lease: no other worker takes it meanwhile, and if the attempt never
// records its outcome (a crash), it is tried again once the lease ends.
func (d *Delivery) claim(now time.Time, lease time.Duration) ports.WebhookDelivery {
	r := d.next(now)
	r.Attempts++
	r.LastAttemptAt = now
	r.NextAttemptAt = now.Add(lease)
	return r
}

// succeeded records a 2xx answer.
func (d *Delivery) succeeded(now time.Time, status int) ports.WebhookDelivery {
	r := d.next(now)
	r.Status, r.LastStatus, r.LastError, r.NextAttemptAt = ports.WebhookDelivered, status, "", time.Time{}
	return r
}

// failedAttempt records an attempt that got no 2xx answer: tried again
// after wait, or failed for good after the last attempt (wait < 0).
func (d *Delivery) failedAttempt(now time.Time, status int, reason string, wait time.Duration) ports.WebhookDelivery {
	r := d.next(now)
	r.LastStatus, r.LastError = status, truncate(reason, maxErrorLength)
	if wait < 0 {
		r.Status, r.NextAttemptAt = ports.WebhookFailed, time.Time{}
		return r
	}
	r.NextAttemptAt = now.Add(wait)
	return r
}

// abandoned gives up without an attempt: the endpoint is gone or off.
func (d *Delivery) abandoned(now time.Time, reason string) ports.WebhookDelivery {
	r := d.next(now)
	r.Status, r.LastError, r.NextAttemptAt = ports.WebhookFailed, reason, time.Time{}
	return r
}

// replayed sends a delivered or failed delivery again, now, with its
// attempts counted afresh.
func (d *Delivery) replayed(now time.Time) (ports.WebhookDelivery, error) {
	if d.r.Status == ports.WebhookPending {
		return d.r, fmt.Errorf("delivery %s: %w", d.r.ID, ErrNotReplayable)
	}
	r := d.next(now)
	r.Status, r.Attempts, r.NextAttemptAt = ports.WebhookPending, 0, now
	r.Replays++
	return r, nil
}

// truncate cuts s to at most n bytes of valid, printable UTF-8.
func truncate(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
