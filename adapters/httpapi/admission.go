package httpapi

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/unicornstore/unicorn/domains/identity"
	"github.com/unicornstore/unicorn/ports"
)

// Limits hold load instead of suffering it: a caller or a client that asks
// too fast is told when to come back (429, Retry-After) before any work,
// and when the server already has all it can do, a new request is refused
// at once (503, Retry-After) instead of queueing until every request is
// slow. The zero value limits nothing.
type Limits struct {
	// ClientRate is the requests a second all callers of one client may
	// make together; CallerRate what one caller may: an API key, a
	// signed-in user, or an address for requests without credentials.
	// Each bucket holds two seconds' worth, so a page that asks for five
	// things at once is not refused. Zero is no limit.
	ClientRate, CallerRate float64
	// MaxInFlight bounds the requests handled at once.
	MaxInFlight int
	// MaxSagas bounds the purchases whose saga has not ended: past it a
	// purchase is refused before anything is stored. SagaBacklog counts
	// them; without it (the cloud, where Step Functions queues) the bound
	// is not checked.
	MaxSagas    int
	SagaBacklog func() int
}

func (l Limits) validate() error {
	if l.ClientRate < 0 || l.CallerRate < 0 || l.MaxInFlight < 0 || l.MaxSagas < 0 {
		return fmt.Errorf("httpapi: limits cannot be negative")
	}
	return nil
}

// maxBuckets bounds the callers remembered at once: past it the idle ones
// (whose bucket is full again) are forgotten, so a stream of new addresses
// costs memory only while it lasts.
const maxBuckets = 1 << 16

// buckets are token buckets by key.
type buckets struct {
	limit rate.Limit
	burst int

	mu sync.Mutex
	m  map[string]*rate.Limiter
}

func newBuckets(perSecond float64) *buckets {
	if perSecond <= 0 {
		return nil
	}
	return &buckets{limit: rate.Limit(perSecond), burst: max(1, int(math.Ceil(2*perSecond))), m: map[string]*rate.Limiter{}}
}

// take spends a token of key's bucket, or says how long until one is
// there. A nil *buckets always has one.
func (b *buckets) take(key string, now time.Time) (wait time.Duration, ok bool) {
	if b == nil {
		return 0, true
	}
	b.mu.Lock()
	l := b.m[key]
	if l == nil {
		if len(b.m) >= maxBuckets {
			b.forgetIdle(now)
		}
		l = rate.NewLimiter(b.limit, b.burst)
		b.m[key] = l
	}
	b.mu.Unlock()
	r := l.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}

// forgetIdle drops the buckets that are full: forgetting them changes
// nothing. If every bucket is in use, all are dropped: better to limit
// less for a moment than to grow without bound.
func (b *buckets) forgetIdle(now time.Time) {
	for k, l := range b.m {
		if l.TokensAt(now) >= float64(b.burst) {
			delete(b.m, k)
		}
	}
	if len(b.m) >= maxBuckets {
		clear(b.m)
	}
}

// admission applies Limits.
type admission struct {
	limits   Limits
	clients  *buckets
	callers  *buckets
	inFlight chan struct{} // a slot per request being handled; nil: no bound
}

func newAdmission(l Limits) *admission {
	a := &admission{limits: l, clients: newBuckets(l.ClientRate), callers: newBuckets(l.CallerRate)}
	if l.MaxInFlight > 0 {
		a.inFlight = make(chan struct{}, l.MaxInFlight)
	}
	return a
}

var (
	kindThrottled  = kind{http.StatusTooManyRequests, "rate-limited", "Too many requests", ""}
	kindOverloaded = kind{http.StatusServiceUnavailable, "overloaded", "Overloaded, retry", ""}
)

// bound refuses a request when MaxInFlight requests are being handled.
// Health checks always pass: an instance busy serving is not unhealthy.
func (a *admission) bound(next http.Handler) http.Handler {
	if a.inFlight == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		select {
		case a.inFlight <- struct{}{}:
			defer func() { <-a.inFlight }()
			next.ServeHTTP(w, r)
		default:
			writeError(w, r, &requestError{kindOverloaded,
				fmt.Sprintf("the server is handling as many requests as it takes at once (%d)", cap(a.inFlight))})
		}
	})
}

// throttle spends a token of the caller's bucket and, for a principal, of
// its client's; false when one is empty, and the 429 is written.
func (a *admission) throttle(w http.ResponseWriter, r *http.Request, p ports.Principal, signedIn bool) bool {
	now := time.Now()
	caller := "address " + identity.AddressGroup(address(r))
	if signedIn {
		caller = p.Kind + " " + p.Client + "/" + p.Subject
		if wait, ok := a.clients.take(p.Client, now); !ok {
			return a.refuse(w, r, wait, fmt.Sprintf("client %s has made more than %g requests a second", p.Client, a.limits.ClientRate))
		}
	}
	if wait, ok := a.callers.take(caller, now); !ok {
		return a.refuse(w, r, wait, fmt.Sprintf("more than %g requests a second from one caller", a.limits.CallerRate))
	}
	return true
}

func (a *admission) refuse(w http.ResponseWriter, r *http.Request, wait time.Duration, why string) bool {
	secs := int(math.Ceil(wait.Seconds())) // an attempt made when it says is not refused again
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, r, &requestError{kindThrottled, why + "; retry after " + strconv.Itoa(secs) + " s"})
	return false
}

// sagaRoom refuses a purchase when MaxSagas sagas are under way.
func (a *admission) sagaRoom() error {
	if a.limits.MaxSagas <= 0 || a.limits.SagaBacklog == nil {
		return nil
	}
	if n := a.limits.SagaBacklog(); n >= a.limits.MaxSagas {
		return &requestError{kindOverloaded, fmt.Sprintf("%d purchases are under way, as many as the store takes at once", n)}
	}
	return nil
}
