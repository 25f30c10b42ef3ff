package dynamodb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/unicornstore/unicorn/ports"
)

// Ledger is the points event store on DynamoDB (ports.Ledger). An append is
// one TransactWriteItems: a check that the expected event exists, a
// conditional put per new event, and a conditional put of the idempotency
// record, so that the stream's version and the key are guarded together.
type Ledger struct {
	client *ddb.Client
	table  string
}

// Ledger returns the store's ledger.
func (s *Store) Ledger() *Ledger { return &Ledger{client: s.client, table: s.tables.Ledger} }

var _ ports.Ledger = (*Ledger)(nil)

// accountPrefix starts the partition key of a points account's items.
const accountPrefix = "A#"

func accountKey(account string) string { return accountPrefix + account }

func idempotencyKey(key string) string { return "K#" + key }

func (l *Ledger) Append(ctx context.Context, a ports.Append) error {
	if err := checkAppend(a); err != nil {
		return err
	}
	pk := accountKey(a.Account)
	var items []types.TransactWriteItem
	if a.ExpectedVersion > 0 {
		// The expected event must exist; the puts below ensure the next
		// does not: together, the stream is exactly at ExpectedVersion.
		items = append(items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
			TableName:           aws.String(l.table),
			Key:                 map[string]types.AttributeValue{"pk": str(pk), "sk": num(a.ExpectedVersion)},
			ConditionExpression: aws.String("attribute_exists(pk)"),
		}})
	}
	for _, ev := range a.Events {
		items = append(items, types.TransactWriteItem{Put: &types.Put{
			TableName: aws.String(l.table),
			Item: map[string]types.AttributeValue{
				"pk": str(pk), "sk": num(ev.Seq), "account": str(ev.Account), "id": str(ev.ID), "type": str(ev.Type),
				"v": num(int64(ev.Version)), "data": str(string(ev.Data)), "at": str(formatTime(ev.RecordedAt)),
			},
			ConditionExpression: aws.String("attribute_not_exists(pk)"),
		}})
	}
	keyIndex := -1
	if rec := a.Idempotency; rec != nil {
		keyIndex = len(items)
		items = append(items, types.TransactWriteItem{Put: &types.Put{
			TableName: aws.String(l.table),
			Item: map[string]types.AttributeValue{
				"pk": str(idempotencyKey(rec.Key)), "sk": num(0), "account": str(rec.Account), "fp": str(rec.Fingerprint),
				"result": str(string(rec.Result)), "at": str(formatTime(rec.CreatedAt)),
				ttlAttribute: expiry(rec.CreatedAt.Add(idempotencyRetention)),
			},
			ConditionExpression: aws.String("attribute_not_exists(pk)"),
		}})
	}
	if a.Snapshot != nil {
		items = append(items, snapshotPut(l.table, *a.Snapshot))
	}
	_, err := l.client.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return nil
	}
	var cancelled *types.TransactionCanceledException
	if errors.As(err, &cancelled) {
		reasons := cancelled.CancellationReasons
		if keyIndex >= 0 && keyIndex < len(reasons) && aws.ToString(reasons[keyIndex].Code) == "ConditionalCheckFailed" {
			return fmt.Errorf("append to %s: idempotency key %q: %w", a.Account, a.Idempotency.Key, ports.ErrDuplicate)
		}
		// A failed condition on the stream, or a concurrent transaction
		// on the same items: either way another writer got there first.
		return fmt.Errorf("append to %s at version %d: %w", a.Account, a.ExpectedVersion, ports.ErrConflict)
	}
	var conflict *types.TransactionConflictException
	if errors.As(err, &conflict) {
		return fmt.Errorf("append to %s at version %d: %w", a.Account, a.ExpectedVersion, ports.ErrConflict)
	}
	return fmt.Errorf("append to %s: %w", a.Account, err)
}

// checkAppend is the port's check, whose bound on events per append
// (ports.MaxAppendEvents) keeps an append within one transaction.
func checkAppend(a ports.Append) error { return a.Check() }

func eventFrom(m map[string]types.AttributeValue) (ports.Event, error) {
	it := item{m: m}
	ev := ports.Event{
		Account: it.str("account"), Seq: it.num("sk"), ID: it.str("id"), Type: it.str("type"),
		Version: int(it.num("v")), Data: json.RawMessage(it.str("data")), RecordedAt: it.time("at"),
	}
	return ev, it.err
}

// query runs a query to the end (or until limit items), decoding events.
func (l *Ledger) query(ctx context.Context, in *ddb.QueryInput, limit int) ([]ports.Event, error) {
	var out []ports.Event
	p := ddb.NewQueryPaginator(l.client, in)
	for p.HasMorePages() && (limit <= 0 || len(out) < limit) {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, m := range page.Items {
			ev, err := eventFrom(m)
			if err != nil {
				return nil, err
			}
			out = append(out, ev)
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (l *Ledger) Load(ctx context.Context, account string, after int64) ([]ports.Event, error) {
	events, err := l.query(ctx, &ddb.QueryInput{
		TableName:                 aws.String(l.table),
		KeyConditionExpression:    aws.String("pk = :pk AND sk > :after"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(accountKey(account)), ":after": num(after)},
		ConsistentRead:            aws.Bool(true),
	}, 0)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", account, err)
	}
	return events, nil
}

func (l *Ledger) LoadBackward(ctx context.Context, account string, before int64, limit int) ([]ports.Event, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	events, err := l.query(ctx, &ddb.QueryInput{
		TableName:                 aws.String(l.table),
		KeyConditionExpression:    aws.String("pk = :pk AND sk < :before"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(accountKey(account)), ":before": num(before)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(min(limit, 1000))),
		ConsistentRead:            aws.Bool(true),
	}, limit)
	if err != nil {
		return nil, fmt.Errorf("load %s backward: %w", account, err)
	}
	return events, nil
}

func (l *Ledger) Version(ctx context.Context, account string) (int64, error) {
	out, err := l.client.Query(ctx, &ddb.QueryInput{
		TableName:                 aws.String(l.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(accountKey(account))},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(1),
		ProjectionExpression:      aws.String("sk"),
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return 0, fmt.Errorf("version of %s: %w", account, err)
	}
	if len(out.Items) == 0 {
		return 0, nil
	}
	it := item{m: out.Items[0]}
	v := it.num("sk")
	return v, it.err
}

func (l *Ledger) Idempotency(ctx context.Context, key string) (ports.IdempotencyRecord, error) {
	rec := ports.IdempotencyRecord{Key: key}
	out, err := l.client.GetItem(ctx, &ddb.GetItemInput{
		TableName:      aws.String(l.table),
		Key:            map[string]types.AttributeValue{"pk": str(idempotencyKey(key)), "sk": num(0)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return rec, fmt.Errorf("idempotency key %q: %w", key, err)
	}
	if out.Item == nil {
		return rec, fmt.Errorf("idempotency key %q: %w", key, ports.ErrNotFound)
	}
	it := item{m: out.Item}
	rec.Account, rec.Fingerprint, rec.Result, rec.CreatedAt = it.str("account"), it.str("fp"), json.RawMessage(it.str("result")), it.time("at")
	return rec, it.err
}

// ReadAll scans the ledger. DynamoDB has no global order: the cursor is the
// scan position. A scan returns each account's items in sort key order.
func (l *Ledger) ReadAll(ctx context.Context, cursor string, limit int) ([]ports.Event, string, error) {
	start, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", fmt.Errorf("read all: %w", err)
	}
	out, err := l.client.Scan(ctx, &ddb.ScanInput{
		TableName:                 aws.String(l.table),
		ExclusiveStartKey:         start,
		Limit:                     aws.Int32(int32(limit)),
		FilterExpression:          aws.String("begins_with(pk, :events)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":events": str(accountPrefix)},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return nil, "", fmt.Errorf("read all: %w", err)
	}
	events := make([]ports.Event, 0, len(out.Items))
	for _, m := range out.Items {
		ev, err := eventFrom(m)
		if err != nil {
			return nil, "", fmt.Errorf("read all: %w", err)
		}
		events = append(events, ev)
	}
	next, err := encodeCursor(out.LastEvaluatedKey)
	if err != nil {
		return nil, "", fmt.Errorf("read all: %w", err)
	}
	return events, next, nil
}

func (l *Ledger) Count(ctx context.Context) (int64, error) {
	var n int64
	p := ddb.NewScanPaginator(l.client, &ddb.ScanInput{
		TableName:                 aws.String(l.table),
		Select:                    types.SelectCount,
		FilterExpression:          aws.String("begins_with(pk, :events)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":events": str(accountPrefix)},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("count events: %w", err)
		}
		n += int64(page.Count)
	}
	return n, nil
}
