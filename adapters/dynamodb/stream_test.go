package dynamodb_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/adapters/dynamodb"
	"github.com/unicornstore/unicorn/adapters/dynamodb/dynamotest"
	"github.com/unicornstore/unicorn/ports"
)

var t0 = time.Date(2026, 11, 21, 9, 30, 0, 123456789, time.UTC)

// follow reads a table's stream from its start in the background until
// the test ends; records returns what it has handed over so far.
type follow struct {
	mu      sync.Mutex
	records []streamtypes.Record
	reader  *dynamodb.StreamReader
}

func followStream(t *testing.T, s *dynamodb.Store, table string, cfg dynamodb.StreamReaderConfig, handle func([]streamtypes.Record) error) *follow {
	t.Helper()
	arn, err := s.StreamARN(context.Background(), table)
	if err != nil {
		t.Fatal(err)
	}
	f := &follow{reader: dynamodb.NewStreamReader(dynamotest.StreamsClient(t), arn, cfg)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- f.reader.Run(ctx, func(_ context.Context, rs []streamtypes.Record) error {
			if handle != nil {
				if err := handle(rs); err != nil {
					return err
				}
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			f.records = append(f.records, rs...)
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("stream reader of %s: %v", table, err)
		}
	})
	return f
}

// until polls the records read until cond holds of them (60 s at most:
// DynamoDB Local on a busy machine is slow, but never that slow).
func (f *follow) until(t *testing.T, what string, cond func([]streamtypes.Record) bool) []streamtypes.Record {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		f.mu.Lock()
		got := append([]streamtypes.Record(nil), f.records...)
		f.mu.Unlock()
		if cond(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not read within 60s (%d records read)", what, len(got))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// messages decodes records, failing the test on an error; the records
// that carry no message are counted.
//
// Every record that carries a message must pass the table's stream filter
// (the event source mapping's in the cloud), or a consumer would never
// see it.
func messages(t *testing.T, filter dynamodb.StreamFilter, records []streamtypes.Record) (msgs []ports.Message, none int) {
	t.Helper()
	for _, r := range records {
		m, ok, err := dynamodb.StreamMessage(r)
		if err != nil {
			t.Fatalf("decode %s record: %v", r.EventName, err)
		}
		if !ok {
			none++
			continue
		}
		if !passes(filter, r) {
			t.Errorf("the stream filter %s drops a %s record that carries %s %s", filter.Pattern(), r.EventName, m.Topic, m.Key)
		}
		msgs = append(msgs, m)
	}
	return msgs, none
}

// passes is Lambda's reading of a filter's pattern (TestStreamFilterPattern
// pins the pattern) for one record.
func passes(f dynamodb.StreamFilter, r streamtypes.Record) bool {
	pk, _ := r.Dynamodb.Keys["pk"].(*streamtypes.AttributeValueMemberS)
	return slices.Contains(f.Events, string(r.EventName)) && pk != nil && strings.HasPrefix(pk.Value, f.KeyPrefix)
}

func TestStreamFilterPattern(t *testing.T) {
	tables := dynamodb.TablesNamed("t-")
	filters := dynamodb.StreamFilters(tables)
	want := map[string]string{
		tables.Ledger:   `{"dynamodb":{"Keys":{"pk":{"S":[{"prefix":"A#"}]}}},"eventName":["INSERT"]}`,
		tables.Retail:   `{"dynamodb":{"Keys":{"pk":{"S":[{"prefix":"P#"}]}}},"eventName":["INSERT","MODIFY","REMOVE"]}`,
		tables.Messages: `{"dynamodb":{"Keys":{"pk":{"S":[{"prefix":"M#"}]}}},"eventName":["INSERT"]}`,
	}
	if len(filters) != len(want) {
		t.Errorf("%d filters, want %d", len(filters), len(want))
	}
	for table, pattern := range want {
		if got := filters[table].Pattern(); got != pattern {
			t.Errorf("%s: pattern %s, want %s", table, got, pattern)
		}
	}
}

// hasKey is a condition: a record's item has partition key pk.
func hasKey(pk string) func([]streamtypes.Record) bool {
	return func(rs []streamtypes.Record) bool {
		for _, r := range rs {
			if v, ok := r.Dynamodb.Keys["pk"].(*streamtypes.AttributeValueMemberS); ok && v.Value == pk {
				return true
			}
		}
		return false
	}
}

// The streams carry exactly the messages the SQLite outbox carries, and
// nothing for the other items written through the real adapters. Each
// test ends its writes with a sentinel item: the stream is in order, so
// once the sentinel is read everything before it has been.
func TestStreamMessages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := dynamotest.NewStore(t)
	tables := s.Tables()

	t.Run("ledger events", func(t *testing.T) {
		t.Parallel()
		f := followStream(t, s, tables.Ledger, dynamodb.StreamReaderConfig{}, nil)
		events := []ports.Event{
			{ID: "e1", Account: "Store/derick", Seq: 1, Type: "points.issued", Version: 1, Data: json.RawMessage(`{"amount": 100}`), RecordedAt: t0},
			{ID: "e2", Account: "Store/derick", Seq: 2, Type: "points.redeemed", Version: 1, Data: json.RawMessage(`{"amount":40}`), RecordedAt: t0.Add(time.Second)},
		}
		err := s.Ledger().Append(ctx, ports.Append{Account: "Store/derick", Events: events,
			Idempotency: &ports.IdempotencyRecord{Key: "Store/k1", Account: "Store/derick", Fingerprint: "fp", Result: json.RawMessage(`[]`), CreatedAt: t0},
			Snapshot:    &ports.Snapshot{Account: "Store/derick", Version: int64(len(events)), State: json.RawMessage(`{}`), TakenAt: t0}})
		if err != nil {
			t.Fatal(err)
		}
		sentinel := ports.Event{ID: "e3", Account: "Store/zz", Seq: 1, Type: "points.issued", Version: 1, Data: json.RawMessage(`{}`), RecordedAt: t0}
		if err := s.Ledger().Append(ctx, ports.Append{Account: "Store/zz", Events: []ports.Event{sentinel}}); err != nil {
			t.Fatal(err)
		}
		got, none := messages(t, dynamodb.StreamFilters(tables)[tables.Ledger], f.until(t, "the sentinel event", hasKey("A#Store/zz")))
		var want []ports.Message
		for _, ev := range append(events, sentinel) {
			payload, _ := json.Marshal(ev) // what the SQLite outbox stores
			want = append(want, ports.Message{Topic: ports.TopicPointsLedger, Key: ev.Account, Payload: payload, CreatedAt: ev.RecordedAt})
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ledger messages (-want +got):\n%s", diff)
		}
		if none != 2 {
			t.Errorf("%d records carried no message, want 2 (the idempotency record and the snapshot)", none)
		}
	})

	t.Run("product changes", func(t *testing.T) {
		t.Parallel()
		f := followStream(t, s, tables.Retail, dynamodb.StreamReaderConfig{}, nil)
		p := ports.Product{ID: "u1", Name: "Unicorn", Description: "fine", Image: "/u1.svg", Price: decimal.RequireFromString("1700.50"), Stock: 4, Version: 1, UpdatedAt: t0}
		if err := s.Catalog().Save(ctx, p); err != nil {
			t.Fatal(err)
		}
		edited := p
		edited.Name, edited.Version, edited.UpdatedAt = "Unicorn Air", 2, t0.Add(time.Minute)
		if err := s.Catalog().Save(ctx, edited); err != nil {
			t.Fatal(err)
		}
		r := ports.Reservation{OrderID: "o-1", Lines: []ports.StockLine{{ProductID: "u1", Quantity: 3}}, Status: ports.ReservationReserved, ExpiresAt: t0, Version: 1}
		if err := s.Stock().SaveReservation(ctx, r, []ports.StockMove{{ProductID: "u1", Delta: -3}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Wallets().Apply(ctx, ports.WalletChange{Username: "derick", Delta: decimal.NewFromInt(5), At: t0,
			Deposit: &ports.Deposit{Key: "Store/d1", Username: "derick", Amount: decimal.NewFromInt(5), At: t0}}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Orders().Create(ctx, ports.Order{ID: "o-1", UserID: "derick", Status: ports.OrderPending, CreatedAt: t0, Version: 1}); err != nil {
			t.Fatal(err)
		}
		if err := s.Catalog().Delete(ctx, "u1", 2); err != nil {
			t.Fatal(err)
		}
		if err := s.SagaSteps().Record(ctx, "sentinel", ports.SagaStep{Step: "S", Status: "started", At: t0}); err != nil {
			t.Fatal(err)
		}
		records := f.until(t, "the sentinel saga step", hasKey("H#sentinel"))
		got, none := messages(t, dynamodb.StreamFilters(tables)[tables.Retail], records)
		var changes []ports.ProductChange
		for _, m := range got {
			if m.Topic != ports.TopicProducts || m.Key != "u1" {
				t.Errorf("message %s %s, want one on %s about u1", m.Topic, m.Key, ports.TopicProducts)
			}
			var ch ports.ProductChange
			if err := json.Unmarshal(m.Payload, &ch); err != nil {
				t.Fatal(err)
			}
			changes = append(changes, ch)
		}
		stock, deleted := edited, edited
		stock.Stock = 1
		deleted.Stock, deleted.Version = 1, 3 // as the SQLite catalog announces a deletion: at the next version
		want := []ports.ProductChange{{Change: "created", Product: p}, {Change: "updated", Product: edited}, {Change: "stock", Product: stock}, {Change: "deleted", Product: deleted}}
		if diff := cmp.Diff(want, changes, cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) })); diff != "" {
			t.Errorf("product changes (-want +got):\n%s", diff)
		}
		// The reservation, the wallet and its deposit, the order, the
		// saga step: no message.
		if none != 5 {
			t.Errorf("%d records carried no message, want 5", none)
		}
	})

	t.Run("published messages, once per key", func(t *testing.T) {
		t.Parallel()
		f := followStream(t, s, tables.Messages, dynamodb.StreamReaderConfig{}, nil)
		m := ports.Message{Topic: ports.TopicPurchases, Key: "order:o-1:completed", Payload: []byte(`{"order_id":"o-1"}`), CreatedAt: t0}
		for range 3 {
			if err := s.Publisher().Publish(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		sentinel := ports.Message{Topic: "test", Key: "sentinel", Payload: []byte(`{}`), CreatedAt: t0}
		if err := s.Publisher().Publish(ctx, sentinel); err != nil {
			t.Fatal(err)
		}
		got, none := messages(t, dynamodb.StreamFilters(tables)[tables.Messages], f.until(t, "the sentinel message", hasKey("M#sentinel")))
		if diff := cmp.Diff([]ports.Message{m, sentinel}, got); diff != "" || none != 0 {
			t.Errorf("messages (-want +got):\n%s%d without a message", diff, none)
		}
	})
}

// A batch whose handler fails is handed again, whole; batches hold at most
// Batch records; a reader given another's positions goes on after them.
func TestStreamReader(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := dynamotest.NewStore(t)
	publish := func(keys ...string) {
		for _, k := range keys {
			if err := s.Publisher().Publish(ctx, ports.Message{Topic: "test", Key: k, Payload: []byte(`{}`), CreatedAt: t0}); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish("a", "b", "c", "d", "e")
	var mu sync.Mutex
	var handed [][]string
	failed := false
	first := followStream(t, s, s.Tables().Messages, dynamodb.StreamReaderConfig{Batch: 2}, func(rs []streamtypes.Record) error {
		msgs, _ := messages(t, dynamodb.StreamFilters(s.Tables())[s.Tables().Messages], rs)
		var keys []string
		for _, m := range msgs {
			keys = append(keys, m.Key)
		}
		mu.Lock()
		defer mu.Unlock()
		handed = append(handed, keys)
		if !failed && len(handed) == 2 {
			failed = true
			return errors.New("consumer down")
		}
		return nil
	})
	first.until(t, "five messages", func(rs []streamtypes.Record) bool { return len(rs) == 5 })
	mu.Lock()
	want := [][]string{{"a", "b"}, {"c", "d"}, {"c", "d"}, {"e"}}
	if diff := cmp.Diff(want, handed); diff != "" {
		t.Errorf("batches handed (-want +got):\n%s", diff)
	}
	mu.Unlock()

	publish("f")
	second := followStream(t, s, s.Tables().Messages, dynamodb.StreamReaderConfig{Positions: first.reader.Positions()}, nil)
	got, _ := messages(t, dynamodb.StreamFilters(s.Tables())[s.Tables().Messages], second.until(t, "the message after the positions", hasKey("M#f")))
	if len(got) != 1 || got[0].Key != "f" {
		t.Errorf("a resumed reader read %v, want only f", got)
	}
}
