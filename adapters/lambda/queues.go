package lambda

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/aws/aws-lambda-go/events"
)

// Queue handles a batch of SQS messages, as an event source mapping with
// ReportBatchItemFailures delivers them: each message's body is handed to
// handle, up to workers at once (a queue's messages are independent of
// each other: there is no order to keep). A message whose handling failed
// is reported and comes back once the queue's visibility timeout ends (to
// its dead-letter queue after maxReceiveCount receives); every other one
// is done and deleted. Done means handled, not that what the message asked
// for happened: a webhook delivery that was tried and is to be tried
// again has been queued anew by handle.
func Queue(handle func(ctx context.Context, body string) error, workers int, log *slog.Logger) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	workers = max(workers, 1)
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var (
			resp events.SQSEventResponse
			mu   sync.Mutex
			wg   sync.WaitGroup
			sem  = make(chan struct{}, workers)
		)
		for _, m := range ev.Records {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if err := handleOne(ctx, handle, m.Body); err != nil {
					log.Error("queue message failed; it comes back after the visibility timeout", "message_id", m.MessageId,
						"body", m.Body, "receive_count", m.Attributes["ApproximateReceiveCount"], "err", err)
					mu.Lock()
					resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		return resp, nil
	}
}

// handleOne is one message's handling; a panic fails that message only
// (in a goroutine of its own, it would end the whole process).
func handleOne(ctx context.Context, handle func(ctx context.Context, body string) error, body string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return handle(ctx, body)
}
