package webhooks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Run delivers due deliveries with a bounded pool of workers (Workers at
// once) until ctx ends: the one-machine deliverer. It polls the store
// every Poll, and at once when this process enqueues or replays something
// (Poke). A delivery an attempt held when the process stopped is due
// again once its lease ends. A store that cannot list due deliveries
// (errors.ErrUnsupported) ends it with that error: there, a Queue carries
// them.
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
	for ctx.Err() == nil {
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
		select {
		case <-ctx.Done():
		case <-s.wake:
		case <-time.After(s.cfg.Poll):
		}
	}
	return nil
}
