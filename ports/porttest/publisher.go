package porttest

import (
	"context"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/ports"
)

// Published reads what a publisher made of the messages under key, in the
// order published, from wherever its consumers read them (an outbox, a
// change stream).
type Published func(t *testing.T, key string) []ports.Message

// TestPublisher is the contract of ports.Publisher: a key is published
// once; a repeat (a retried step) is no error and no second message, even
// with another payload.
func TestPublisher(t *testing.T, p ports.Publisher, published Published) {
	ctx := context.Background()
	first := ports.Message{Topic: ports.TopicPurchases, Key: "order:o-1:completed", Payload: []byte(`{"order_id":"o-1"}`), CreatedAt: t0}
	for _, m := range []ports.Message{first, first, {Topic: ports.TopicPurchases, Key: first.Key, Payload: []byte(`{"order_id":"other"}`), CreatedAt: t0.Add(time.Second)}} {
		if err := p.Publish(ctx, m); err != nil {
			t.Fatalf("publish %s: %v", m.Key, err)
		}
	}
	other := ports.Message{Topic: ports.TopicPurchases, Key: "order:o-2:completed", Payload: []byte(`{"order_id":"o-2"}`), CreatedAt: t0}
	if err := p.Publish(ctx, other); err != nil {
		t.Fatal(err)
	}
	for _, want := range []ports.Message{first, other} {
		got := published(t, want.Key)
		if len(got) != 1 || got[0].Topic != want.Topic || got[0].Key != want.Key || string(got[0].Payload) != string(want.Payload) || !got[0].CreatedAt.Equal(want.CreatedAt) {
			t.Errorf("published under %s: %+v; want the one message %s %s", want.Key, got, want.Topic, want.Payload)
		}
	}
}
