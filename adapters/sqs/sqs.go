// Package sqs hands webhook deliveries to an Amazon SQS queue: the cloud
// shape's ports.WebhookQueue. Each message is one delivery's id, delayed
// until the delivery is due (at most SQS's 15 minutes: the deliverer
// queues a delivery that is not due yet again, so longer waits are made of
// several messages). The deliverer function reads the queue (an event
// source mapping) and calls the webhooks domain's Deliver with the id.
package sqs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/unicornstore/unicorn/ports"
)

// Client is what the queue calls of SQS (*sqs.Client has it).
type Client interface {
	SendMessageBatch(ctx context.Context, in *awssqs.SendMessageBatchInput, optFns ...func(*awssqs.Options)) (*awssqs.SendMessageBatchOutput, error)
}

// SQS's bounds on what one SendMessageBatch call carries.
const (
	// BatchSize is the most messages one call sends.
	BatchSize = 10
	// MaxDelay is the longest a message can be held before it is
	// delivered.
	MaxDelay = 15 * time.Minute
)

// attempts is how many times the entries of a batch that SQS failed on
// its side (not the sender's fault) are sent: the SDK retries a call that
// failed as a whole, not the entries of one that partly succeeded.
const attempts = 3

// WebhookQueue is a ports.WebhookQueue on one SQS standard queue.
type WebhookQueue struct {
	client Client
	url    string
	now    func() time.Time
	// pause waits between two sends of the entries SQS failed.
	pause func(ctx context.Context, attempt int) error
}

var _ ports.WebhookQueue = (*WebhookQueue)(nil)

// NewWebhookQueue is the queue at url (https://sqs.<region>.amazonaws.com/<account>/<name>).
// clock tells the time the delays are counted from (the system's when
// nil).
func NewWebhookQueue(client Client, url string, clock ports.Clock) (*WebhookQueue, error) {
	if client == nil || url == "" {
		return nil, errors.New("sqs: a client and the queue's URL are required")
	}
	q := &WebhookQueue{client: client, url: url, now: time.Now, pause: pause}
	if clock != nil {
		q.now = clock.Now
	}
	return q, nil
}

// Delay is how long SQS holds a delivery's message: until its
// NextAttemptAt, rounded up to a whole second so that it is never handed
// over early, at most MaxDelay; 0 for one that is due.
func Delay(d ports.WebhookDelivery, now time.Time) time.Duration {
	if d.NextAttemptAt.IsZero() {
		return 0
	}
	wait := d.NextAttemptAt.Sub(now)
	if wait <= 0 {
		return 0
	}
	whole := (wait + time.Second - 1) / time.Second * time.Second
	return min(whole, MaxDelay)
}

// Push sends one message per delivery (a delivery given twice is sent
// once), in batches of BatchSize. Entries SQS failed on its side are sent
// again, twice at most; a delivery that could not be queued makes Push
// fail, naming it, after the others were sent: the caller is retried
// (a stream record, a queue message), and queueing a delivery twice is
// harmless (the deliverer skips what is no longer pending).
func (q *WebhookQueue) Push(ctx context.Context, deliveries ...ports.WebhookDelivery) error {
	// The latest of each delivery, in the order given.
	last := map[string]int{}
	var order []string
	for i, d := range deliveries {
		if d.ID == "" {
			return errors.New("sqs: a webhook delivery without an id")
		}
		if _, seen := last[d.ID]; !seen {
			order = append(order, d.ID)
		}
		last[d.ID] = i
	}
	var failures []error
	for start := 0; start < len(order); start += BatchSize {
		batch := make([]ports.WebhookDelivery, 0, BatchSize)
		for _, id := range order[start:min(start+BatchSize, len(order))] {
			batch = append(batch, deliveries[last[id]])
		}
		if err := q.send(ctx, batch); err != nil {
			if ctx.Err() != nil {
				return err
			}
			failures = append(failures, err)
		}
	}
	return errors.Join(failures...)
}

// send sends one batch, and again the entries SQS failed on its side.
func (q *WebhookQueue) send(ctx context.Context, batch []ports.WebhookDelivery) error {
	now := q.now()
	entries := make([]types.SendMessageBatchRequestEntry, 0, len(batch))
	byEntry := map[string]string{} // entry id: delivery id
	for i, d := range batch {
		// A delivery's id may hold characters an entry's id may not
		// (letters, digits, - and _ only): the entry is named by its place.
		id := strconv.Itoa(i)
		byEntry[id] = d.ID
		entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(id), MessageBody: aws.String(d.ID),
			DelaySeconds: int32(Delay(d, now) / time.Second)})
	}
	for attempt := 1; ; attempt++ {
		out, err := q.client.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: aws.String(q.url), Entries: entries})
		if err != nil {
			return fmt.Errorf("sqs: queue %d webhook deliveries: %w", len(entries), err)
		}
		var again []types.SendMessageBatchRequestEntry
		var refused []string
		failed := map[string]types.BatchResultErrorEntry{}
		for _, f := range out.Failed {
			failed[aws.ToString(f.Id)] = f
		}
		for _, e := range entries {
			f, ok := failed[aws.ToString(e.Id)]
			switch {
			case !ok:
			case !f.SenderFault && attempt < attempts:
				again = append(again, e)
			default:
				refused = append(refused, fmt.Sprintf("%s (%s: %s)", byEntry[aws.ToString(e.Id)], aws.ToString(f.Code), aws.ToString(f.Message)))
			}
		}
		if len(refused) > 0 {
			return fmt.Errorf("sqs: webhook deliveries not queued: %s", strings.Join(refused, ", "))
		}
		if len(again) == 0 {
			return nil
		}
		if err := q.pause(ctx, attempt); err != nil {
			return err
		}
		entries = again
	}
}

// pause waits a little longer after each attempt, or until ctx ends.
func pause(ctx context.Context, attempt int) error {
	t := time.NewTimer(time.Duration(attempt*attempt) * 100 * time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
