package lambda

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// Queue: every message's body is handled, at most workers at once; the
// messages whose handling failed (an error, a panic) and only those are
// reported, by message id.
func TestQueue(t *testing.T) {
	var (
		mu            sync.Mutex
		seen          []string
		inFlight, top atomic.Int64
	)
	release, started := make(chan struct{}), make(chan struct{}, 9)
	handle := func(ctx context.Context, body string) error {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			old := top.Load()
			if n <= old || top.CompareAndSwap(old, n) {
				break
			}
		}
		mu.Lock()
		seen = append(seen, body)
		mu.Unlock()
		started <- struct{}{}
		<-release
		switch body {
		case "d-2", "d-5":
			return errors.New("endpoint store down")
		case "d-7":
			panic("a bug")
		}
		return nil
	}
	var ev events.SQSEvent
	var want []string
	for i := range 9 {
		body := fmt.Sprintf("d-%d", i)
		want = append(want, body)
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprintf("m-%d", i), Body: body, EventSource: "aws:sqs",
			Attributes: map[string]string{"ApproximateReceiveCount": "1"}})
	}
	done := make(chan events.SQSEventResponse)
	go func() {
		resp, err := Queue(handle, 3, slog.New(slog.DiscardHandler))(t.Context(), ev)
		if err != nil {
			t.Error(err)
		}
		done <- resp
	}()
	// Three at once, and the fourth waits for one of them.
	for range 3 {
		<-started
	}
	select {
	case <-started:
		t.Fatal("a fourth message was handled while three were")
	default:
	}
	if n := inFlight.Load(); n != 3 {
		t.Errorf("%d messages in hand, want 3", n)
	}
	close(release)
	resp := <-done
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	slices.Sort(failed)
	slices.Sort(seen)
	if !slices.Equal(failed, []string{"m-2", "m-5", "m-7"}) {
		t.Errorf("reported %v, want m-2, m-5 and m-7", failed)
	}
	if !slices.Equal(seen, want) {
		t.Errorf("handled %v, want %v", seen, want)
	}
	if top.Load() > 3 {
		t.Errorf("%d messages handled at once, want at most 3", top.Load())
	}
	// An empty batch reports nothing.
	if resp, err := Queue(handle, 0, slog.New(slog.DiscardHandler))(t.Context(), events.SQSEvent{}); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Errorf("an empty batch: %v %v", resp, err)
	}
}
