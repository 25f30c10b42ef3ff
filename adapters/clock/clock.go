// Package clock implements the Clock and IDs ports: the system clock and
// UUIDv7 ids for production, a hand-moved clock and counting ids for tests
// and simulations.
package clock

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// System is the wall clock, in UTC.
type System struct{}

func (System) Now() time.Time { return time.Now().UTC() }

// Manual is a clock that only moves when told to. It is safe for concurrent use.
type Manual struct {
	mu  sync.Mutex
	now time.Time
}

// NewManual returns a clock stopped at t.
func NewManual(t time.Time) *Manual { return &Manual{now: t.UTC()} }

func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// Advance moves the clock forward by d.
func (m *Manual) Advance(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = m.now.Add(d)
}

// Set moves the clock to t.
func (m *Manual) Set(t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = t.UTC()
}

// UUIDs makes version 7 UUIDs: unique, and in creation order when sorted.
type UUIDs struct{}

func (UUIDs) NewID() string { return uuid.Must(uuid.NewV7()).String() }

// Counter makes ids prefix-1, prefix-2, ...: predictable, for tests.
type Counter struct {
	Prefix string
	n      atomic.Int64
}

func (c *Counter) NewID() string { return fmt.Sprintf("%s-%d", c.Prefix, c.n.Add(1)) }
