package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/adapters/lambda"
	"github.com/unicornstore/unicorn/adapters/sqs/sqstest"
	"github.com/unicornstore/unicorn/domains/points"
	"github.com/unicornstore/unicorn/domains/webhooks"
	"github.com/unicornstore/unicorn/ports"
)

// The queues' event source mappings as the tests play them: batches of up
// to ten messages, in Lambda's shape (events.SQSEvent); a message the
// function reports (or all of a batch whose invocation failed) is hidden
// for the visibility timeout (short here: the stack's is minutes) and
// handed over again, and goes to the dead letters at its fifth receive,
// as the stack's redrive policy says.
const (
	queueBatch       = 10
	queueVisibility  = 2 * time.Second
	queueMaxReceives = 5
)

// deadLetters are the messages the mappings gave up on.
type deadLetters struct {
	mu       sync.Mutex
	messages []string
}

func (d *deadLetters) add(fn string, m sqstest.Message) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.messages = append(d.messages, fmt.Sprintf("%s: message %s (%q) after %d receives", fn, m.ID, m.Body, m.ReceiveCount))
}

func (d *deadLetters) list() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.messages)
}

// playQueue is a queue's event source mapping: it hands the queue's
// visible messages to the function through the Lambda API until ctx
// ends, deletes those it handled, and keeps the rest for another receive.
func (c *cloud) playQueue(ctx context.Context, fn, url string, log *slog.Logger) {
	name := url[strings.LastIndex(url, "/")+1:]
	for ctx.Err() == nil {
		msgs := c.queues.Receive(url, queueBatch, queueVisibility)
		if len(msgs) == 0 {
			// Until something is sent or released, a held message's delay
			// ends, or a while has passed.
			wait := 250 * time.Millisecond
			if next := c.queues.NextVisible(url); !next.IsZero() {
				wait = min(wait, max(time.Until(next), time.Millisecond))
			}
			select {
			case <-ctx.Done():
			case <-c.queues.Ready():
			case <-time.After(wait):
			}
			continue
		}
		var ev events.SQSEvent
		for _, m := range msgs {
			sum := md5.Sum([]byte(m.Body))
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: m.ID, ReceiptHandle: "handle-" + m.ID, Body: m.Body,
				Md5OfBody: hex.EncodeToString(sum[:]), EventSource: "aws:sqs", EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:" + name,
				AWSRegion: "us-east-1", Attributes: map[string]string{"ApproximateReceiveCount": strconv.Itoa(m.ReceiveCount),
					"SentTimestamp": strconv.FormatInt(m.SentAt.UnixMilli(), 10), "SenderId": m.SentBy}})
		}
		failed := map[string]bool{}
		out, fnErr, err := c.fns.invoke(ctx, fn, ev)
		var resp events.SQSEventResponse
		if err == nil && fnErr == "" {
			err = json.Unmarshal(out, &resp)
		}
		if err != nil || fnErr != "" {
			if ctx.Err() != nil {
				return
			}
			log.Error("queue batch failed as a whole", "function", fn, "err", err, "error_type", fnErr, "out", string(out))
			for _, m := range msgs {
				failed[m.ID] = true
			}
		}
		for _, f := range resp.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
		for _, m := range msgs {
			switch {
			case !failed[m.ID]:
				c.queues.Delete(url, m.ID)
			case m.ReceiveCount >= queueMaxReceives:
				c.queues.Delete(url, m.ID)
				c.deadLetters.add(fn, m)
			}
		}
	}
}

// checkQueues fails the test for a message a function sent that the
// catalog does not let it send (the stack grants sqs:SendMessage on a
// queue to exactly the functions whose SendsTo names it), for a request
// SQS would have refused, and for a message the mappings gave up on.
func (c *cloud) checkQueues(t *testing.T) {
	t.Helper()
	kinds := map[string]string{} // URL: kind
	for kind, url := range c.queueURLs {
		kinds[url] = kind
	}
	sent := map[string]int{}
	for _, r := range c.queues.Requests() {
		def, ok := lambda.FunctionNamed(r.Caller)
		switch {
		case !ok:
			t.Errorf("%q sent %s to %s, and is no function of the catalog", r.Caller, r.Action, r.QueueURL)
		case !slices.Contains(def.SendsTo, kinds[r.QueueURL]):
			t.Errorf("%s sent to the %q queue (%s), which its grants (%v) do not allow", r.Caller, kinds[r.QueueURL], r.QueueURL, def.SendsTo)
		case r.Refused != "":
			t.Errorf("%s's %s was refused: %s", r.Caller, r.Action, r.Refused)
		}
		sent[r.Caller] += len(r.Entries)
	}
	t.Logf("messages sent, by function: %v", sent)
	for _, m := range c.deadLetters.list() {
		t.Errorf("dead letter: %s", m)
	}
}

// receiver is a client's webhook endpoint: it checks every delivery's
// signature with the endpoint's secret, as a receiver must, and answers
// 204, or 503 to the attempts it is told to fail.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	secret string
	got    []hook
	fail   map[string]int // by event type: attempts still to answer 503
}

// hook is one delivery attempt the receiver got.
type hook struct {
	ID, Type string // the webhook-id header (the event's id), the event's type
	Data     map[string]any
	Status   int    // what the receiver answered
	Err      string // what was wrong with it
}

func startReceiver(t *testing.T) *receiver {
	rx := &receiver{fail: map[string]int{}}
	rx.Server = httptest.NewServer(http.HandlerFunc(rx.serve))
	t.Cleanup(rx.Close)
	return rx
}

func (rx *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	rx.mu.Lock()
	defer rx.mu.Unlock()
	h := hook{ID: r.Header.Get(webhooks.HeaderID), Status: http.StatusNoContent}
	var ev struct {
		ID, Type, Client string
		Data             map[string]any
	}
	switch {
	case err != nil:
		h.Err = err.Error()
	case r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json":
		h.Err = r.Method + " of " + r.Header.Get("Content-Type")
	default:
		if err := webhooks.VerifySignature(rx.secret, h.ID, r.Header.Get(webhooks.HeaderTimestamp), body, r.Header.Get(webhooks.HeaderSignature),
			time.Now(), webhooks.DefaultTolerance); err != nil {
			h.Err = err.Error()
		} else if err := json.Unmarshal(body, &ev); err != nil || ev.ID != h.ID {
			h.Err = fmt.Sprintf("body %s: %v", body, err)
		}
	}
	h.Type, h.Data = ev.Type, ev.Data
	switch {
	case h.Err != "":
		h.Status = http.StatusBadRequest
	case rx.fail[ev.Type] > 0:
		rx.fail[ev.Type]--
		h.Status = http.StatusServiceUnavailable
	}
	rx.got = append(rx.got, h)
	w.WriteHeader(h.Status)
}

func (rx *receiver) setSecret(s string) {
	rx.mu.Lock()
	defer rx.mu.Unlock()
	rx.secret = s
}

func (rx *receiver) failNext(eventType string, n int) {
	rx.mu.Lock()
	defer rx.mu.Unlock()
	rx.fail[eventType] = n
}

// hooks are the attempts of events of a type whose data's field is value.
func (rx *receiver) hooks(eventType, field, value string) []hook {
	rx.mu.Lock()
	defer rx.mu.Unlock()
	var out []hook
	for _, h := range rx.got {
		if h.Type == eventType && h.Data[field] == value {
			out = append(out, h)
		}
	}
	return out
}

// wait waits for n attempts of such events, and returns them.
func (rx *receiver) wait(t *testing.T, eventType, field, value string, n int) []hook {
	t.Helper()
	var got []hook
	waitFor(t, fmt.Sprintf("%d deliveries of %s with %s %s", n, eventType, field, value), func() bool {
		got = rx.hooks(eventType, field, value)
		return len(got) >= n
	})
	return got
}

// wrong are the attempts the receiver found wrong (a bad signature, ...).
func (rx *receiver) wrong() []hook {
	rx.mu.Lock()
	defer rx.mu.Unlock()
	var out []hook
	for _, h := range rx.got {
		if h.Err != "" {
			out = append(out, h)
		}
	}
	return out
}

// sentTo are the messages a function sent to a queue with this body, in
// the order sent.
func (c *cloud) sentTo(url, fn, body string) []sqstest.Entry {
	var out []sqstest.Entry
	for _, r := range c.queues.Requests() {
		if r.QueueURL != url || r.Caller != fn || r.Refused != "" {
			continue
		}
		for _, e := range r.Entries {
			if e.Body == body {
				out = append(out, e)
			}
		}
	}
	return out
}

// testWebhooks: a client's endpoint registered through the api function
// is told, signed, of an order completed and returned (the retail-stream
// function stores and queues the deliveries), of points expired (the
// ledger-stream function) and about to expire (the daily scan's
// function); the webhook-deliverer function, invoked by the queue's
// mapping with SQS events, makes the attempts. A failed attempt is
// queued again, delayed until its retry is due; a message handed over
// before its delivery is due (SQS delays 15 minutes at most) makes no
// attempt and is queued again; an admin's replay goes through the queue
// too. Every function the catalog lets send to the queue did, and each
// did what it may to DynamoDB (checked at the end of TestCloudShape).
func testWebhooks(t *testing.T, c *cloud) {
	ctx := t.Context()
	queue := c.queueURLs[lambda.WebhookQueue]
	rx := startReceiver(t)
	admin := staff(t, c, "wh-admin", ports.RoleAdmin)
	status, resp := c.call(t, http.MethodPost, "/webhooks/endpoints", admin,
		fmt.Sprintf(`{"url":%q,"events":["order.completed","order.returned","points.expired","points.expiring"]}`, rx.URL+"/hooks"))
	var ep struct{ ID, Secret string }
	if status != http.StatusCreated || json.Unmarshal([]byte(resp), &ep) != nil || ep.Secret == "" {
		t.Fatalf("POST /webhooks/endpoints = %d %s", status, resp)
	}
	rx.setSecret(ep.Secret)
	delivery := func(id string) ports.WebhookDelivery {
		t.Helper()
		d, err := c.store.Webhooks().Delivery(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	// An order completed; its first attempt is answered 503.
	rx.failNext(webhooks.OrderCompleted.String(), 1)
	product(t, c, "wh", "30.00", 5)
	tok := customer(t, c, "wh", "100", 0)
	o := purchase(t, c, tok, `{"user_id":"wh","items":[{"product_id":"wh","quantity":2}]}`)
	if o.Status != "completed" {
		t.Fatalf("the purchase: %+v", o)
	}
	first := rx.wait(t, "order.completed", "order_id", o.ID, 1)[0]
	id := ep.ID + "." + first.ID // a delivery is its endpoint's and its event's
	var d ports.WebhookDelivery
	waitFor(t, "the failed attempt to be recorded", func() bool {
		d = delivery(id)
		return d.Attempts == 1 && d.LastStatus == http.StatusServiceUnavailable
	})
	if d.Status != ports.WebhookPending || d.NextAttemptAt.Before(d.LastAttemptAt.Add(23*time.Second)) {
		t.Fatalf("after a failed first attempt: %+v; want pending, tried again in 30 s ± 20%%", d)
	}
	// The stream's function queued it at once; the deliverer queued it
	// again, delayed until its retry is due.
	if sent := c.sentTo(queue, "retail-stream", id); len(sent) == 0 || sent[0].DelaySeconds != 0 {
		t.Errorf("retail-stream queued %+v; want the delivery, undelayed", sent)
	}
	retry := func() bool {
		return slices.ContainsFunc(c.sentTo(queue, "webhook-deliverer", id), func(e sqstest.Entry) bool {
			return e.DelaySeconds >= 23 && e.DelaySeconds <= 36
		})
	}
	waitFor(t, "the deliverer to queue the retry", retry)

	// Handed over before it is due: no attempt, back to the queue.
	before := len(c.sentTo(queue, "webhook-deliverer", id))
	if n := c.queues.Release(queue, func(m sqstest.Message) bool { return m.Body == id }); n == 0 {
		t.Fatal("the retry's message is not held in the queue")
	}
	waitFor(t, "the early message to be queued again", func() bool { return len(c.sentTo(queue, "webhook-deliverer", id)) > before })
	if got := delivery(id); got.Version != d.Version || len(rx.hooks("order.completed", "order_id", o.ID)) != 1 {
		t.Errorf("an early hand-over changed the delivery (%+v) or made an attempt", got)
	}

	// As if the wait had passed: the retry is due, and delivered.
	d.NextAttemptAt, d.UpdatedAt, d.Version = time.Now().Add(-time.Second), time.Now(), d.Version+1
	if err := c.store.Webhooks().UpdateDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	c.queues.Release(queue, func(m sqstest.Message) bool { return m.Body == id })
	waitFor(t, "the retry to be delivered", func() bool { return delivery(id).Status == ports.WebhookDelivered })
	if got := delivery(id); got.Attempts != 2 || got.LastStatus != http.StatusNoContent {
		t.Errorf("the delivered retry: %+v", got)
	}
	hs := rx.hooks("order.completed", "order_id", o.ID)
	if len(hs) != 2 || hs[1].ID != first.ID || hs[0].Status != http.StatusServiceUnavailable || hs[1].Status != http.StatusNoContent {
		t.Errorf("the receiver got %+v; want the event twice, answered 503 then 204", hs)
	}

	// The order returned: its event comes through the messages table's
	// stream (retail.returns).
	ret := askReturn(t, c, tok, o.ID, `{}`)
	if _, r, run := followReturn(t, c, tok, o.ID, ret, 1); r.Status != "completed" || run != "succeeded" {
		t.Fatalf("the return: %s, its run %s", r.Status, run)
	}
	rx.wait(t, "order.returned", "order_id", o.ID, 1)

	// Points expired (the ledger's stream), and points about to expire
	// (the daily scan): issued a year and 10 days ago, and 360 days ago
	// (they expire in 5 days, within the endpoint's 7).
	for _, p := range []struct {
		account string
		ago     time.Time
	}{{"wh-expired", time.Now().AddDate(-1, 0, -10)}, {"wh-expiring", time.Now().AddDate(0, 0, -360)}} {
		past, err := c.servicesAt(ctx, clock.NewManual(p.ago))
		if err != nil {
			t.Fatal(err)
		}
		account := points.MustAccountID(c.client, p.account)
		if _, err := past.Points.Issue(ctx, points.IssueCommand{Account: account, Amount: 40, Key: "wh:" + p.account}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the read model of "+p.account, func() bool {
			v, err := c.store.Balances().Get(ctx, account.String())
			return err == nil && v.Seq == 1
		})
	}
	sweep := func(fn string) lambda.SweepResult {
		t.Helper()
		out, fnErr, err := c.fns.invoke(ctx, fn, map[string]any{"source": "aws.scheduler"})
		var res lambda.SweepResult
		if err != nil || fnErr != "" || json.Unmarshal(out, &res) != nil {
			t.Fatalf("%s: %v %s %s", fn, err, fnErr, out)
		}
		return res
	}
	if res := sweep("expire-points"); res.Done < 40 {
		t.Errorf("expire-points expired %d points, want 40 at least", res.Done)
	}
	rx.wait(t, "points.expired", "account_id", "wh-expired", 1)
	if res := sweep("webhook-expiring-scan"); res.Done < 1 || res.Failed != 0 {
		t.Errorf("the expiring scan: %+v; want the lot of wh-expiring told of", res)
	}
	h := rx.wait(t, "points.expiring", "account_id", "wh-expiring", 1)[0]
	if left, _ := h.Data["days_left"].(float64); h.Data["points"] != float64(40) || left < 1 || left > 7 {
		t.Errorf("points.expiring: %v; want 40 points, about 5 days left", h.Data)
	}

	// An admin's replay, through the api function and the queue.
	if status, resp := c.call(t, http.MethodPost, "/webhooks/deliveries/"+id+"/replay", admin, ""); status != http.StatusAccepted {
		t.Fatalf("replay: %d %s", status, resp)
	}
	rx.wait(t, "order.completed", "order_id", o.ID, 3)
	waitFor(t, "the replay to be delivered", func() bool {
		d := delivery(id)
		return d.Status == ports.WebhookDelivered && d.Replays == 1
	})

	for _, h := range rx.wrong() {
		t.Errorf("the receiver refused a delivery: %+v", h)
	}
	// Each function the catalog lets send to the queue did: no grant is
	// wider than its use.
	senders := map[string]bool{}
	for _, r := range c.queues.Requests() {
		senders[r.Caller] = true
	}
	for _, def := range lambda.Functions() {
		if len(def.SendsTo) > 0 && !senders[def.Name] {
			t.Errorf("%s may send to %v and never did", def.Name, def.SendsTo)
		}
	}
}
