package dynamodb

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/unicornstore/unicorn/ports"
)

// Stream event names (a record's EventName).
const (
	StreamInsert = string(streamtypes.OperationTypeInsert)
	StreamModify = string(streamtypes.OperationTypeModify)
	StreamRemove = string(streamtypes.OperationTypeRemove)
)

// StreamMessage turns one record of a table's change stream into the
// message it carries, as the SQLite outbox would have carried it: ok is
// false for a record that carries none (see DecodeChange).
func StreamMessage(r streamtypes.Record) (m ports.Message, ok bool, err error) {
	if r.Dynamodb == nil {
		return m, false, nil
	}
	var at time.Time
	if t := r.Dynamodb.ApproximateCreationDateTime; t != nil {
		at = *t
	}
	return DecodeChange(string(r.EventName), r.Dynamodb.NewImage, r.Dynamodb.OldImage, at)
}

// StreamFilter is what of a table's stream carries messages: the records
// whose event is one of Events and whose partition key starts with
// KeyPrefix. DecodeChange finds no message in any other record, so an
// event source mapping that filters by it (Pattern) spends no invocation
// on them.
type StreamFilter struct {
	Events    []string
	KeyPrefix string
}

// Pattern is the filter as a Lambda event filter pattern.
func (f StreamFilter) Pattern() string {
	p, _ := json.Marshal(map[string]any{
		"eventName": f.Events,
		"dynamodb":  map[string]any{"Keys": map[string]any{"pk": map[string]any{"S": []any{map[string]string{"prefix": f.KeyPrefix}}}}},
	})
	return string(p)
}

// StreamFilters are the filters of the streams that carry messages, by
// table: ledger events, product changes, published messages.
func StreamFilters(t Tables) map[string]StreamFilter {
	return map[string]StreamFilter{
		t.Ledger:   {Events: []string{StreamInsert}, KeyPrefix: accountPrefix},
		t.Retail:   {Events: []string{StreamInsert, StreamModify, StreamRemove}, KeyPrefix: productPrefix},
		t.Messages: {Events: []string{StreamInsert}, KeyPrefix: messagePrefix},
	}
}

// DecodeChange turns a change of one item (the event name INSERT, MODIFY
// or REMOVE, the item's new and old images, and when the change happened)
// into the message it carries:
//
//   - a ledger event inserted: ports.TopicPointsLedger, keyed by account,
//     the JSON of the ports.Event;
//   - a product inserted, modified or removed: ports.TopicProducts, keyed
//     by product id, the JSON of a ports.ProductChange: "created",
//     "updated" when its version moved, "stock" when only its stock did,
//     "deleted" (from the old image, at the next version, as the SQLite
//     catalog announces a deletion);
//   - a published message inserted: its own topic, key and payload.
//
// Every other change (idempotency records, snapshots, reservations,
// wallets, orders, saga steps, an item removed by its time to live, ...)
// carries no message: ok is false. An item that looks like a message but
// cannot be read is an error. at is the time of a stock change or a
// deletion (the record's approximate creation time), which the item does
// not hold. The message's ID is 0: a stream record's sequence number does
// not fit one.
func DecodeChange(event string, newImage, oldImage map[string]streamtypes.AttributeValue, at time.Time) (m ports.Message, ok bool, err error) {
	image := newImage
	if event == StreamRemove {
		image = oldImage
	}
	pk, _ := image["pk"].(*streamtypes.AttributeValueMemberS)
	if pk == nil {
		return m, false, nil
	}
	switch key := pk.Value; {
	case strings.HasPrefix(key, accountPrefix) && event == StreamInsert && image["type"] != nil:
		ev, err := eventFrom(fromStreamImage(image))
		if err != nil {
			return m, false, fmt.Errorf("ledger event in the stream: %w", err)
		}
		payload, err := json.Marshal(ev)
		if err != nil {
			return m, false, err
		}
		return ports.Message{Topic: ports.TopicPointsLedger, Key: ev.Account, Payload: payload, CreatedAt: ev.RecordedAt}, true, nil
	case strings.HasPrefix(key, productPrefix) && image["version"] != nil:
		return productChange(event, fromStreamImage(newImage), fromStreamImage(oldImage), at)
	case strings.HasPrefix(key, messagePrefix) && event == StreamInsert && image["topic"] != nil:
		msg, err := messageFrom(fromStreamImage(image))
		if err != nil {
			return m, false, fmt.Errorf("published message in the stream: %w", err)
		}
		return msg, true, nil
	}
	return m, false, nil
}

func productChange(event string, newImage, oldImage map[string]types.AttributeValue, at time.Time) (ports.Message, bool, error) {
	var ch ports.ProductChange
	var err error
	switch event {
	case StreamInsert:
		ch.Change = "created"
		ch.Product, err = productFrom(newImage)
		at = ch.Product.UpdatedAt
	case StreamModify:
		if oldImage == nil {
			return ports.Message{}, false, fmt.Errorf("product change without its old image: the retail table must stream new and old images")
		}
		ch.Product, err = productFrom(newImage)
		if err != nil {
			break
		}
		var old ports.Product
		if old, err = productFrom(oldImage); err != nil {
			break
		}
		ch.Change = "stock"
		if old.Version != ch.Product.Version {
			ch.Change, at = "updated", ch.Product.UpdatedAt
		}
	case StreamRemove:
		ch.Change = "deleted"
		ch.Product, err = productFrom(oldImage)
		ch.Product.Version++
	default:
		return ports.Message{}, false, fmt.Errorf("product change: unknown stream event %q", event)
	}
	if err != nil {
		return ports.Message{}, false, fmt.Errorf("product in the stream: %w", err)
	}
	payload, err := json.Marshal(ch)
	if err != nil {
		return ports.Message{}, false, err
	}
	return ports.Message{Topic: ports.TopicProducts, Key: ch.Product.ID, Payload: payload, CreatedAt: at}, true, nil
}

// fromStreamImage converts an image from the streams API's attribute
// values to the database API's, which the item readers take: the two
// SDK packages declare the same union twice.
func fromStreamImage(image map[string]streamtypes.AttributeValue) map[string]types.AttributeValue {
	if image == nil {
		return nil
	}
	out := make(map[string]types.AttributeValue, len(image))
	for k, v := range image {
		out[k] = fromStream(v)
	}
	return out
}

func fromStream(v streamtypes.AttributeValue) types.AttributeValue {
	switch v := v.(type) {
	case *streamtypes.AttributeValueMemberS:
		return &types.AttributeValueMemberS{Value: v.Value}
	case *streamtypes.AttributeValueMemberN:
		return &types.AttributeValueMemberN{Value: v.Value}
	case *streamtypes.AttributeValueMemberB:
		return &types.AttributeValueMemberB{Value: v.Value}
	case *streamtypes.AttributeValueMemberBOOL:
		return &types.AttributeValueMemberBOOL{Value: v.Value}
	case *streamtypes.AttributeValueMemberNULL:
		return &types.AttributeValueMemberNULL{Value: v.Value}
	case *streamtypes.AttributeValueMemberSS:
		return &types.AttributeValueMemberSS{Value: v.Value}
	case *streamtypes.AttributeValueMemberNS:
		return &types.AttributeValueMemberNS{Value: v.Value}
	case *streamtypes.AttributeValueMemberBS:
		return &types.AttributeValueMemberBS{Value: v.Value}
	case *streamtypes.AttributeValueMemberM:
		return &types.AttributeValueMemberM{Value: fromStreamImage(v.Value)}
	case *streamtypes.AttributeValueMemberL:
		l := make([]types.AttributeValue, len(v.Value))
		for i, e := range v.Value {
			l[i] = fromStream(e)
		}
		return &types.AttributeValueMemberL{Value: l}
	}
	return &types.AttributeValueMemberNULL{Value: true} // an unknown member reads as absent
}
