package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/unicornstore/unicorn/ports"
)

func record(seq, pk string) streamtypes.Record {
	return streamtypes.Record{EventName: streamtypes.OperationTypeInsert, EventID: aws.String("e" + seq), EventSource: aws.String("aws:dynamodb"),
		Dynamodb: &streamtypes.StreamRecord{SequenceNumber: aws.String(seq), StreamViewType: streamtypes.StreamViewTypeNewImage,
			Keys:     map[string]streamtypes.AttributeValue{"pk": &streamtypes.AttributeValueMemberS{Value: pk}},
			NewImage: map[string]streamtypes.AttributeValue{"pk": &streamtypes.AttributeValueMemberS{Value: pk}}}}
}

// TestRecordsRoundTrip: a record read from a stream and handed to a
// function in Lambda's shape comes back to the decoder unchanged, every
// attribute type included.
func TestRecordsRoundTrip(t *testing.T) {
	r := record("100", "A#x/1")
	r.AwsRegion, r.EventVersion = aws.String("us-east-1"), aws.String("1.1")
	r.Dynamodb.ApproximateCreationDateTime = aws.Time(time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC))
	r.Dynamodb.SizeBytes = aws.Int64(321)
	r.Dynamodb.NewImage = map[string]streamtypes.AttributeValue{
		"s": &streamtypes.AttributeValueMemberS{Value: "text"}, "n": &streamtypes.AttributeValueMemberN{Value: "12345678901234567890.5"},
		"b": &streamtypes.AttributeValueMemberB{Value: []byte{0, 1, 2}}, "t": &streamtypes.AttributeValueMemberBOOL{Value: true},
		"z": &streamtypes.AttributeValueMemberNULL{Value: true}, "ss": &streamtypes.AttributeValueMemberSS{Value: []string{"a", "b"}},
		"ns": &streamtypes.AttributeValueMemberNS{Value: []string{"1", "2"}}, "bs": &streamtypes.AttributeValueMemberBS{Value: [][]byte{{1}, {2}}},
		"l": &streamtypes.AttributeValueMemberL{Value: []streamtypes.AttributeValue{&streamtypes.AttributeValueMemberS{Value: "x"}}},
		"m": &streamtypes.AttributeValueMemberM{Value: map[string]streamtypes.AttributeValue{"k": &streamtypes.AttributeValueMemberN{Value: "7"}}},
	}
	ev, err := EventRecord(r)
	if err != nil {
		t.Fatal(err)
	}
	// Through JSON, as the function receives it.
	b, err := json.Marshal(events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{ev}})
	if err != nil {
		t.Fatal(err)
	}
	var got events.DynamoDBEvent
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	back, err := SDKRecord(got.Records[0])
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(r, back, cmpopts.IgnoreUnexported(streamtypes.Record{}, streamtypes.StreamRecord{}, streamtypes.AttributeValueMemberS{}, streamtypes.AttributeValueMemberN{}, streamtypes.AttributeValueMemberB{}, streamtypes.AttributeValueMemberBOOL{}, streamtypes.AttributeValueMemberNULL{}, streamtypes.AttributeValueMemberSS{}, streamtypes.AttributeValueMemberNS{}, streamtypes.AttributeValueMemberBS{}, streamtypes.AttributeValueMemberL{}, streamtypes.AttributeValueMemberM{})); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
}

// TestStreamReportsTheFirstFailureAndTheRest: records go to the handlers
// of their topic in order; items that are not messages are skipped; at the
// first failure, it and every later record are reported, nothing after it
// is applied.
func TestStreamReportsTheFirstFailureAndTheRest(t *testing.T) {
	decode := func(r streamtypes.Record) (ports.Message, bool, error) {
		pk := r.Dynamodb.Keys["pk"].(*streamtypes.AttributeValueMemberS).Value
		switch pk[0] {
		case 'K':
			return ports.Message{}, false, nil // an idempotency record
		case 'X':
			return ports.Message{}, false, errors.New("not a ledger event")
		}
		return ports.Message{Topic: "t", Key: pk}, true, nil
	}
	var applied []string
	handlers := Handlers{"t": {func(_ context.Context, m ports.Message) error {
		if m.Key == "fail" {
			return errors.New("the read model is down")
		}
		applied = append(applied, m.Key)
		return nil
	}}}
	h := Stream(decode, handlers, slog.New(slog.DiscardHandler))
	for _, tc := range []struct {
		name        string
		keys        []string
		wantApplied []string
		wantFailed  []string
	}{
		{"all good, others skipped", []string{"a", "K1", "b"}, []string{"a", "b"}, nil},
		{"a handler fails", []string{"a", "fail", "b", "c"}, []string{"a"}, []string{"2", "3", "4"}},
		{"a record cannot be decoded", []string{"X", "a"}, nil, []string{"1", "2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			applied = nil
			var ev events.DynamoDBEvent
			for i, k := range tc.keys {
				er, err := EventRecord(record(string(rune('1'+i)), k))
				if err != nil {
					t.Fatal(err)
				}
				ev.Records = append(ev.Records, er)
			}
			resp, err := h(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, f := range resp.BatchItemFailures {
				failed = append(failed, f.ItemIdentifier)
			}
			if !slices.Equal(applied, tc.wantApplied) || !slices.Equal(failed, tc.wantFailed) {
				t.Errorf("applied %v failed %v; want %v and %v", applied, failed, tc.wantApplied, tc.wantFailed)
			}
		})
	}
}

// TestConsumeRetriesFromTheReportedRecord: what a function reports failed
// is handed to it again, from that record on, until all went through.
func TestConsumeRetriesFromTheReportedRecord(t *testing.T) {
	var calls [][]string
	fails := 2
	fn := func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		var seqs []string
		for _, r := range ev.Records {
			seqs = append(seqs, r.Change.SequenceNumber)
		}
		calls = append(calls, seqs)
		if fails > 0 {
			fails--
			return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{{ItemIdentifier: "2"}, {ItemIdentifier: "3"}}}, nil
		}
		return events.DynamoDBEventResponse{}, nil
	}
	if err := Consume(context.Background(), []streamtypes.Record{record("1", "a"), record("2", "b"), record("3", "c")}, fn, 0, nil); err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"1", "2", "3"}, {"2", "3"}, {"2", "3"}}
	if d := cmp.Diff(want, calls); d != "" {
		t.Errorf("calls (-want +got):\n%s", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fails = 100
	if err := Consume(ctx, []streamtypes.Record{record("1", "a")}, fn, 0, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled consume = %v", err)
	}
}

// TestConsumeDropsARecordThatNeverGoesThrough: with a bound on tries, a
// record that always fails is dropped after them, and the records after
// it still go through.
func TestConsumeDropsARecordThatNeverGoesThrough(t *testing.T) {
	var applied []string
	fn := func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		var resp events.DynamoDBEventResponse
		for i, r := range ev.Records {
			if r.Change.SequenceNumber == "2" {
				for _, rest := range ev.Records[i:] {
					resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rest.Change.SequenceNumber})
				}
				return resp, nil
			}
			applied = append(applied, r.Change.SequenceNumber)
		}
		return resp, nil
	}
	var dropped []string
	err := Consume(context.Background(), []streamtypes.Record{record("1", "a"), record("2", "poison"), record("3", "c")}, fn, 3,
		func(seq string) { dropped = append(dropped, seq) })
	if err != nil || !slices.Equal(applied, []string{"1", "3"}) || !slices.Equal(dropped, []string{"2"}) {
		t.Errorf("applied %v, dropped %v, err %v; want 1 and 3 applied, 2 dropped", applied, dropped, err)
	}
}
