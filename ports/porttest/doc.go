// Package porttest holds one contract test suite per port. Every adapter of a
// port runs its suite against the real storage, so adapters cannot drift
// apart in behaviour.
package porttest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/unicornstore/unicorn/ports"
)

// winners runs write 20 times at once, the i-th call with i, and returns
// how many succeeded; a failure other than ErrConflict (losing the race)
// fails the test. Contracts where only one writer of a version may win
// check that it returns 1.
func winners(t *testing.T, write func(i int) error) int {
	t.Helper()
	var wins atomic.Int64
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			switch err := write(i); {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, ports.ErrConflict):
				t.Errorf("writer %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	return int(wins.Load())
}
