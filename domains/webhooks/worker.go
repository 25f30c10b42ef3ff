package webhooks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/unicornstore/unicorn/ports"
)

// Run delivers due deliveries with a bounded pool of workers (Workers at
// once) until ctx ends: the one-machine deliverer. It polls the store
// every Poll, and at once when this process enqueues or replays something
// (Poke). A delivery an attempt held when the process stopped is due
// again once its lease ends. A store that cannot list due deliveries
// (errors.ErrUnsupported) ends it with that error: there, a Queue carries
// them. Once an hour, and when it starts, it also forgets the finished
// deliveries past ports.WebhookRetention (see forgetter).
func (s *Service) Run(ctx context.Context) error {
	work := make(chan string)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		inFlight = map[string]bool{}
	)
	for range s.cfg.Workers {
		wg.Go(func() {
			for id := range work {
				if _, err := s.Deliver(ctx, id); err != nil && ctx.Err() == nil {
					s.d.Log.Error("webhooks: deliver", "delivery", id, "err", err)
				}
				mu.Lock()
				delete(inFlight, id)
				mu.Unlock()
				s.Poke()
			}
		})
	}
	defer func() {
		close(work)
		wg.Wait()
	}()
	forget := forgetter{s: s}
	for ctx.Err() == nil {
		more := forget.step(ctx)
		due, err := s.d.Store.DueDeliveries(ctx, s.now(), 100)
		if errors.Is(err, errors.ErrUnsupported) {
			return fmt.Errorf("webhooks worker: %w", err)
		}
		if err != nil && ctx.Err() == nil {
			s.d.Log.Error("webhooks: find due deliveries", "err", err)
		}
		for _, d := range due {
			mu.Lock()
			busy := inFlight[d.ID]
			inFlight[d.ID] = true
			mu.Unlock()
			if busy {
				continue
			}
			select {
			case work <- d.ID:
			case <-ctx.Done():
				return nil
			}
		}
		if more {
			continue // the next batch of old deliveries, without waiting
		}
		select {
		case <-ctx.Done():
		case <-s.wake:
		case <-time.After(s.cfg.Poll):
		}
	}
	return nil
}

// forgetBatch is how many deliveries one ForgetDeliveries deletes: few
// enough that the store's write lock is held for moments, so a backlog
// of a year is worked off between deliveries, not before them.
const forgetBatch = 500

// forgetEvery is how often the worker looks for deliveries to forget.
const forgetEvery = time.Hour

// forgetter prunes the delivery log of one machine, which would
// otherwise grow with every event forever. Pending deliveries stay; a
// store that forgets on its own (errors.ErrUnsupported) is left to it.
type forgetter struct {
	s         *Service
	next      time.Time // when to look again; zero: at once
	forgotten int       // deleted so far in this pass
	off       bool      // the store forgets on its own
}

// step deletes one batch when a pass is due, and says whether more are
// waiting.
func (f *forgetter) step(ctx context.Context) (more bool) {
	now := f.s.now()
	if f.off || now.Before(f.next) {
		return false
	}
	n, err := f.s.d.Store.ForgetDeliveries(ctx, now.Add(-ports.WebhookRetention), forgetBatch)
	f.forgotten += n
	switch {
	case errors.Is(err, errors.ErrUnsupported):
		f.off = true
		return false
	case err != nil:
		if ctx.Err() == nil {
			f.s.d.Log.Error("webhooks: forget old deliveries", "err", err)
		}
	case n == forgetBatch:
		return true
	}
	if f.forgotten > 0 {
		f.s.d.Log.Info("webhooks: forgot finished deliveries past their retention", "deliveries", f.forgotten, "retention", ports.WebhookRetention)
	}
	f.next, f.forgotten = now.Add(forgetEvery), 0
	return false
}
