package clock

import (
	"sync"
	"testing"
	"time"
)

func TestManual(t *testing.T) {
	start := time.Date(2026, 3, 2, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	c := NewManual(start)
	if got := c.Now(); !got.Equal(start) || got.Location() != time.UTC {
		t.Errorf("Now = %v, want %v in UTC", got, start)
	}
	c.Advance(36 * time.Hour)
	if got := c.Now(); !got.Equal(start.Add(36 * time.Hour)) {
		t.Errorf("after Advance: %v", got)
	}
	c.Set(start)
	if !c.Now().Equal(start) {
		t.Errorf("after Set: %v", c.Now())
	}
}

func TestIDsAreUnique(t *testing.T) {
	for name, ids := range map[string]interface{ NewID() string }{"uuid": UUIDs{}, "counter": &Counter{Prefix: "ev"}} {
		var mu sync.Mutex
		seen := map[string]bool{}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 1000 {
					id := ids.NewID()
					mu.Lock()
					if seen[id] {
						t.Errorf("%s: duplicate id %s", name, id)
					}
					seen[id] = true
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}
}

func TestSystemIsUTC(t *testing.T) {
	if loc := (System{}).Now().Location(); loc != time.UTC {
		t.Errorf("System clock location = %v, want UTC", loc)
	}
}
