package sqs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/adapters/sqs/sqstest"
	"github.com/unicornstore/unicorn/ports"
)

var t0 = time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)

// newQueue is the adapter on the real SDK client, speaking to the
// stand-in over HTTP: what the SDK puts on the wire is what is checked.
func newQueue(t *testing.T) (*WebhookQueue, *sqstest.Server, string) {
	t.Helper()
	srv := sqstest.New(t)
	url := srv.Queue("unicorn-test-webhooks")
	client := awssqs.New(awssqs.Options{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL), AppID: "sqs-test",
		Credentials: credentials.NewStaticCredentialsProvider("key", "secret", "")})
	q, err := NewWebhookQueue(client, url, clock.NewManual(t0))
	if err != nil {
		t.Fatal(err)
	}
	q.pause = func(context.Context, int) error { return nil }
	return q, srv, url
}

func delivery(id string, next time.Time) ports.WebhookDelivery {
	return ports.WebhookDelivery{ID: id, Status: ports.WebhookPending, NextAttemptAt: next, Version: 1}
}

func TestDelay(t *testing.T) {
	for _, tc := range []struct {
		next time.Time
		want time.Duration
	}{
		{time.Time{}, 0},
		{t0, 0},
		{t0.Add(-time.Hour), 0},
		{t0.Add(time.Millisecond), time.Second}, // never early
		{t0.Add(1200 * time.Millisecond), 2 * time.Second},
		{t0.Add(30 * time.Second), 30 * time.Second},
		{t0.Add(15 * time.Minute), 15 * time.Minute},
		{t0.Add(15*time.Minute + time.Millisecond), 15 * time.Minute}, // SQS's most; the deliverer queues it again
		{t0.Add(24 * time.Hour), 15 * time.Minute},
	} {
		if got := Delay(delivery("d", tc.next), t0); got != tc.want {
			t.Errorf("Delay(next %v) = %v, want %v", tc.next.Sub(t0), got, tc.want)
		}
	}
}

// Push: one message per delivery, its body the delivery's id, delayed
// until it is due (at most 15 minutes), in calls of ten at most, to the
// queue's URL, signed for SQS; a delivery given twice is sent once, as
// last given.
func TestPushShapesTheRequests(t *testing.T) {
	q, srv, url := newQueue(t)
	var in []ports.WebhookDelivery
	want := map[string]int32{}
	for i := range 22 {
		next := t0.Add(time.Duration(i*i) * 7 * time.Second)
		id := fmt.Sprintf("ep-%d.evt-%d", i, i) // a delivery id: endpoint.event, with dots
		in = append(in, delivery(id, next))
		want[id] = int32(Delay(delivery(id, next), t0) / time.Second)
	}
	// The first again, due later: sent once, with the later delay.
	in = append(in, delivery(in[0].ID, t0.Add(time.Minute)))
	want[in[0].ID] = 60
	if err := q.Push(t.Context(), in...); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d calls, want 3 (22 deliveries, 10 a call)", len(reqs))
	}
	got := map[string]int32{}
	var order []string
	for i, r := range reqs {
		if r.Action != "SendMessageBatch" || r.QueueURL != url || r.Caller != "sqs-test" || len(r.Entries) > BatchSize {
			t.Errorf("call %d: %s to %s by %q with %d entries", i, r.Action, r.QueueURL, r.Caller, len(r.Entries))
		}
		for _, e := range r.Entries {
			if _, dup := got[e.Body]; dup {
				t.Errorf("%s sent twice", e.Body)
			}
			got[e.Body] = e.DelaySeconds
			order = append(order, e.Body)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("delays by delivery (-want +got):\n%s", diff)
	}
	if order[0] != in[0].ID || order[21] != in[21].ID {
		t.Errorf("sent in the order %v", order)
	}
	if n := len(srv.Messages(url)); n != 22 {
		t.Errorf("%d messages in the queue, want 22", n)
	}
	if err := q.Push(t.Context()); err != nil || len(srv.Requests()) != 3 {
		t.Errorf("pushing nothing: %v, %d calls", err, len(srv.Requests()))
	}
}

// Entries SQS failed on its side are sent again, alone; those it refused
// as the sender's fault, or that kept failing, make Push fail naming
// them, after the rest were queued.
func TestPushPartialFailures(t *testing.T) {
	ctx := t.Context()
	t.Run("failed once on SQS's side", func(t *testing.T) {
		q, srv, url := newQueue(t)
		failures := map[string]int{"b": 1}
		srv.FailWith(func(e sqstest.Entry) *sqstest.Failure {
			if failures[e.Body] > 0 {
				failures[e.Body]--
				return &sqstest.Failure{Code: "InternalError", Message: "try again"}
			}
			return nil
		})
		if err := q.Push(ctx, delivery("a", t0), delivery("b", t0), delivery("c", t0)); err != nil {
			t.Fatal(err)
		}
		reqs := srv.Requests()
		if len(reqs) != 2 || len(reqs[1].Entries) != 1 || reqs[1].Entries[0].Body != "b" {
			t.Errorf("calls %+v; want the three, then b alone", reqs)
		}
		if n := len(srv.Messages(url)); n != 3 {
			t.Errorf("%d messages queued, want 3", n)
		}
	})
	t.Run("the sender's fault", func(t *testing.T) {
		q, srv, url := newQueue(t)
		srv.FailWith(func(e sqstest.Entry) *sqstest.Failure {
			if e.Body == "b" {
				return &sqstest.Failure{Code: "InvalidMessageContents", Message: "no", SenderFault: true}
			}
			return nil
		})
		var in []ports.WebhookDelivery
		for i := range 12 {
			in = append(in, delivery(string(rune('a'+i)), t0))
		}
		err := q.Push(ctx, in...)
		if err == nil || !strings.Contains(err.Error(), "b (InvalidMessageContents: no)") {
			t.Errorf("Push: %v, want b named", err)
		}
		if len(srv.Requests()) != 2 || len(srv.Messages(url)) != 11 {
			t.Errorf("%d calls, %d messages; want 2 calls (no retry of a sender's fault) and the 11 others queued",
				len(srv.Requests()), len(srv.Messages(url)))
		}
	})
	t.Run("failing on SQS's side every time", func(t *testing.T) {
		q, srv, _ := newQueue(t)
		srv.FailWith(func(e sqstest.Entry) *sqstest.Failure {
			return &sqstest.Failure{Code: "InternalError", Message: "down"}
		})
		err := q.Push(ctx, delivery("a", t0))
		if err == nil || !strings.Contains(err.Error(), "a (InternalError: down)") || len(srv.Requests()) != attempts {
			t.Errorf("Push: %v after %d calls; want a named after %d", err, len(srv.Requests()), attempts)
		}
	})
}

// A call SQS refuses as a whole is Push's error, with SQS's code.
func TestPushToNoQueue(t *testing.T) {
	q, srv, _ := newQueue(t)
	q.url = srv.URL + "/123456789012/gone"
	err := q.Push(t.Context(), delivery("a", t0))
	if _, ok := errors.AsType[smithy.APIError](err); !ok || !strings.Contains(err.Error(), "QueueDoesNotExist") {
		t.Errorf("Push to a queue that does not exist: %v", err)
	}
	if _, err := NewWebhookQueue(nil, "u", nil); err == nil {
		t.Error("a queue without a client")
	}
	if _, err := NewWebhookQueue(q.client, "", nil); err == nil {
		t.Error("a queue without a URL")
	}
	if err := q.Push(t.Context(), delivery("", t0)); err == nil {
		t.Error("a delivery without an id was pushed")
	}
}
