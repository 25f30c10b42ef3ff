package lambda

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/unicornstore/unicorn/ports"
)

// Decode turns one stream record into the message a read model consumes,
// or reports that the record is not one (an item of another kind: an
// idempotency record, a wallet, ...).
type Decode func(r streamtypes.Record) (m ports.Message, ok bool, err error)

// Handlers are the read models fed by a stream, by message topic.
type Handlers map[string][]func(context.Context, ports.Message) error

// Stream handles a batch of DynamoDB stream records, as an event source
// mapping with ReportBatchItemFailures delivers them. Records are applied
// in order; at the first that fails, it and every later record are
// reported as failed, so the mapping retries from there and the order of
// an item's changes is kept (the read models are idempotent, so a record
// applied twice changes nothing). Records that are not messages are
// skipped: the mapping's filter should keep most of them away, but a
// filter is an optimisation, not a guarantee.
func Stream(decode Decode, handlers Handlers, log *slog.Logger) func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	return func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		var resp events.DynamoDBEventResponse
		for i, rec := range ev.Records {
			if err := apply(ctx, decode, handlers, rec); err != nil {
				log.Error("stream record failed; it and the rest of the batch go back", "event_id", rec.EventID,
					"sequence", rec.Change.SequenceNumber, "left", len(ev.Records)-i, "err", err)
				for _, r := range ev.Records[i:] {
					resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
				}
				break
			}
		}
		return resp, nil
	}
}

func apply(ctx context.Context, decode Decode, handlers Handlers, rec events.DynamoDBEventRecord) error {
	r, err := SDKRecord(rec)
	if err != nil {
		return err
	}
	m, ok, err := decode(r)
	if err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if !ok {
		return nil
	}
	for _, h := range handlers[m.Topic] {
		if err := h(ctx, m); err != nil {
			return fmt.Errorf("%s message %s: %w", m.Topic, m.Key, err)
		}
	}
	return nil
}

// Consume plays an event source mapping for records read from a stream
// (GetRecords): it hands them to fn as one batch in Lambda's shape and, as
// a mapping with ReportBatchItemFailures does, hands the reported record
// and those after it again, backing off, until every record has gone
// through or ctx ends. fn is a stream handler, called in the process or
// through the Lambda Invoke API.
//
// With giveUp > 0, a record that fails giveUp times in a row is dropped
// (told to dropped) and the rest go on, as a mapping with a finite retry
// count sends a record to its dead-letter queue: one record that can never
// be applied must not stop a read model for good. 0 never gives up.
func Consume(ctx context.Context, records []streamtypes.Record, fn func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error),
	giveUp int, dropped func(seq string)) error {
	var ev events.DynamoDBEvent
	for _, r := range records {
		er, err := EventRecord(r)
		if err != nil {
			return err
		}
		ev.Records = append(ev.Records, er)
	}
	failing, tries := "", 0
	for delay := 50 * time.Millisecond; len(ev.Records) > 0; delay = min(2*delay, 5*time.Second) {
		resp, err := fn(ctx, ev)
		if err == nil && len(resp.BatchItemFailures) == 0 {
			return nil
		}
		if err == nil {
			// Retry from the first record reported; a report naming no
			// record of the batch retries all of it, as Lambda does.
			first := resp.BatchItemFailures[0].ItemIdentifier
			for i, r := range ev.Records {
				if r.Change.SequenceNumber == first {
					ev.Records = ev.Records[i:]
					break
				}
			}
		}
		if seq := ev.Records[0].Change.SequenceNumber; seq != failing {
			failing, tries = seq, 0
		}
		if tries++; giveUp > 0 && tries >= giveUp {
			if dropped != nil {
				dropped(failing)
			}
			ev.Records, failing, tries, delay = ev.Records[1:], "", 0, 50*time.Millisecond
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
	return nil
}
