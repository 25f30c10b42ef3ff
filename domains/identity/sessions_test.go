package identity

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/ports"
)

func TestThrottleAddress(t *testing.T) {
	t.Parallel()
	for address, want := range map[string]string{
		"203.0.113.7":             "203.0.113.7",
		"::ffff:203.0.113.7":      "203.0.113.7", // one host, not two
		"2001:db8:1:2::1":         "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::9":    "2001:db8:1:2::/64",
		"2001:db8:1:3::1":         "2001:db8:1:3::/64",
		"fe80::1%eth0":            "fe80::/64",
		"":                        "",
		"not an address":          "not an address",
		string(make([]byte, 300)): string(make([]byte, 128)),
	} {
		if got := AddressGroup(address); got != want {
			t.Errorf("AddressGroup(%.20q) = %.20q, want %.20q", address, got, want)
		}
	}
}

// TestGateBoundsHashing: forty callers, four turns: never more than four
// inside at once, and a caller whose context ends gets no turn.
func TestGateBoundsHashing(t *testing.T) {
	t.Parallel()
	g := make(gate, 4)
	var inside, peak atomic.Int32
	entered, release := make(chan struct{}, 40), make(chan struct{})
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			if err := g.enter(context.Background()); err != nil {
				t.Error(err)
				return
			}
			n := inside.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			entered <- struct{}{}
			<-release
			inside.Add(-1)
			g.leave()
		})
	}
	for range 4 {
		<-entered
	}
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.enter(ended); !errors.Is(err, context.Canceled) {
		t.Errorf("enter with an ended context while the gate is full: %v", err)
	}
	close(release)
	wg.Wait()
	if p := peak.Load(); p != 4 {
		t.Errorf("at most %d inside at once, want 4", p)
	}
}

// TestCheckIsBusyWhenNoTurnComes: a sign-in that gets no turn to hash
// within HashWait is refused with a Retry-After, not queued.
func TestCheckIsBusyWhenNoTurnComes(t *testing.T) {
	t.Parallel()
	s := &Service{cfg: Config{HashWait: time.Millisecond}.withDefaults(), hashing: make(gate, 1)}
	s.hashing <- struct{}{} // the only turn is taken
	_, err := s.check(context.Background(), "a password", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$a2V5")
	var te *ThrottledError
	if !errors.As(err, &te) || !errors.Is(err, ErrThrottled) || te.RetryAfter != time.Second {
		t.Errorf("check with no turn = %v, want busy with Retry-After 1 s", err)
	}
}

func TestWhichRefreshToken(t *testing.T) {
	t.Parallel()
	sess := ports.Session{RefreshHash: digest("now"), PreviousHashes: []string{digest("first"), digest("second")}}
	for secret, want := range map[string]refreshToken{"now": currentToken, "first": usedToken, "second": usedToken, "x": wrongToken, "": wrongToken} {
		if got := which(sess, secret); got != want {
			t.Errorf("which(%q) = %v, want %v", secret, got, want)
		}
	}
}
