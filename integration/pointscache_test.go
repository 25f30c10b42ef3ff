package integration

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/adapters/dynamodb/dynamotest"
	"github.com/unicornstore/unicorn/domains/points"
	"github.com/unicornstore/unicorn/ports"
)

// countingLedger counts loads and appends, and can let another process
// append just before the next append (a lost race).
type countingLedger struct {
	ports.Ledger
	loads, appends atomic.Int64
	read           atomic.Int64 // events returned by Load and LoadBackward
	before         func()       // run once before the next Append
}

func (l *countingLedger) Load(ctx context.Context, account string, after int64) ([]ports.Event, error) {
	l.loads.Add(1)
	evs, err := l.Ledger.Load(ctx, account, after)
	l.read.Add(int64(len(evs)))
	return evs, err
}

func (l *countingLedger) LoadBackward(ctx context.Context, account string, before int64, limit int) ([]ports.Event, error) {
	evs, err := l.Ledger.LoadBackward(ctx, account, before, limit)
	l.read.Add(int64(len(evs)))
	return evs, err
}

func (l *countingLedger) Append(ctx context.Context, a ports.Append) error {
	l.appends.Add(1)
	if f := l.before; f != nil {
		l.before = nil
		f()
	}
	return l.Ledger.Append(ctx, a)
}

type countingSnapshots struct {
	ports.Snapshots
	gets atomic.Int64
}

func (s *countingSnapshots) Get(ctx context.Context, account string) (ports.Snapshot, error) {
	s.gets.Add(1)
	return s.Snapshots.Get(ctx, account)
}

// A service keeps the state of the accounts it commanded lately. Two
// services (two processes) on one ledger still decide from every event:
// each reads what the other appended since its cached state.
func TestCachedAccountsFollowOtherProcesses(t *testing.T) {
	eachBackend(t, func(t *testing.T, st stores) {
		ctx := context.Background()
		clk := clock.NewManual(day0)
		a, b := newService(t, st, clk, 365), newService(t, st, clk, 365)
		must := func(_ points.Transaction, err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(a.Issue(ctx, points.IssueCommand{Account: alice, Amount: 100}))
		must(b.Issue(ctx, points.IssueCommand{Account: alice, Amount: 50}))
		must(a.Redeem(ctx, points.RedeemCommand{Account: alice, Amount: 120})) // needs b's 50
		if _, err := b.Redeem(ctx, points.RedeemCommand{Account: alice, Amount: 40}); !errors.Is(err, points.ErrInsufficientPoints) {
			t.Fatalf("b redeemed 40 of the 30 left: %v", err) // b must see a's redemption
		}
		must(b.Redeem(ctx, points.RedeemCommand{Account: alice, Amount: 30}))
		if bal := sumStream(t, st.ledger, alice.String()); bal != 0 {
			t.Errorf("ledger sums to %d, want 0", bal)
		}
	})
}

// A command that loses its race to another process does not leave the
// state it changed in the cache: the retry decides from the ledger.
func TestLostRaceIsNotCached(t *testing.T) {
	eachBackend(t, func(t *testing.T, st stores) {
		ctx := context.Background()
		clk := clock.NewManual(day0)
		ledger := &countingLedger{Ledger: st.ledger}
		a, err := points.NewService(points.Deps{Ledger: ledger, Snapshots: st.snapshots, Clock: clk, IDs: clock.UUIDs{}}, points.Config{TTLDays: 365})
		if err != nil {
			t.Fatal(err)
		}
		other := newService(t, st, clk, 365)
		if _, err := a.Issue(ctx, points.IssueCommand{Account: alice, Amount: 100}); err != nil {
			t.Fatal(err)
		}
		ledger.before = func() {
			if _, err := other.Issue(ctx, points.IssueCommand{Account: alice, Amount: 10}); err != nil {
				t.Error(err)
			}
		}
		before := ledger.appends.Load()
		if _, err := a.Issue(ctx, points.IssueCommand{Account: alice, Amount: 20}); err != nil {
			t.Fatal(err)
		}
		if n := ledger.appends.Load() - before; n != 2 {
			t.Fatalf("%d appends, want 2 (one lost to the other process, one retried)", n)
		}
		if _, err := a.Redeem(ctx, points.RedeemCommand{Account: alice, Amount: 131}); !errors.Is(err, points.ErrInsufficientPoints) {
			t.Fatalf("redeemed 131 of 130: %v", err)
		}
		if _, err := a.Redeem(ctx, points.RedeemCommand{Account: alice, Amount: 130}); err != nil {
			t.Fatal(err)
		}
		if bal := sumStream(t, st.ledger, alice.String()); bal != 0 {
			t.Errorf("ledger sums to %d, want 0", bal)
		}
	})
}

// On a hot account a command reads the ledger once and appends once; it
// does not read the snapshot again.
func TestHotAccountCommandReadsNoSnapshot(t *testing.T) {
	eachBackend(t, func(t *testing.T, st stores) {
		ctx := context.Background()
		ledger, snaps := &countingLedger{Ledger: st.ledger}, &countingSnapshots{Snapshots: st.snapshots}
		s, err := points.NewService(points.Deps{Ledger: ledger, Snapshots: snaps, Clock: clock.NewManual(day0), IDs: clock.UUIDs{}}, points.Config{TTLDays: 365})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Issue(ctx, points.IssueCommand{Account: alice, Amount: 1}); err != nil {
			t.Fatal(err)
		}
		gets, loads, appends := snaps.gets.Load(), ledger.loads.Load(), ledger.appends.Load()
		for range 10 {
			if _, err := s.Issue(ctx, points.IssueCommand{Account: alice, Amount: 1, Key: time.Now().String()}); err != nil {
				t.Fatal(err)
			}
		}
		if g, l, a := snaps.gets.Load()-gets, ledger.loads.Load()-loads, ledger.appends.Load()-appends; g != 0 || l != 10 || a != 10 {
			t.Errorf("10 issues on a hot account: %d snapshot reads, %d ledger reads, %d appends; want 0, 10, 10", g, l, a)
		}
	})
}

// A reversal reads the account's stream back only as far as the
// transaction it takes back: a saga's compensation of a redemption made a
// moment ago costs the same on an account with a long history as on a new
// one. A reversal further back still finds its transaction and sees that
// it was already reversed, whichever process reversed it.
func TestReversalReadsBackOnlyAsFarAsItsTransaction(t *testing.T) {
	eachBackend(t, func(t *testing.T, st stores) {
		ctx := context.Background()
		clk := clock.NewManual(day0)
		ledger := &countingLedger{Ledger: st.ledger}
		s, err := points.NewService(points.Deps{Ledger: ledger, Snapshots: st.snapshots, Clock: clk, IDs: clock.UUIDs{}},
			points.Config{TTLDays: 365, SnapshotEvery: 20})
		if err != nil {
			t.Fatal(err)
		}
		first, err := s.Issue(ctx, points.IssueCommand{Account: alice, Amount: 50})
		if err != nil {
			t.Fatal(err)
		}
		oldRedemption, err := s.Redeem(ctx, points.RedeemCommand{Account: alice, Amount: 5})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 300 {
			if _, err := s.Issue(ctx, points.IssueCommand{Account: alice, Amount: 1, Key: fmt.Sprint("i", i)}); err != nil {
				t.Fatal(err)
			}
		}
		recent, err := s.Redeem(ctx, points.RedeemCommand{Account: alice, Amount: 40})
		if err != nil {
			t.Fatal(err)
		}
		read := ledger.read.Load()
		if _, err := s.Reverse(ctx, points.ReverseCommand{Account: alice, TransactionID: recent.ID}); err != nil {
			t.Fatal(err)
		}
		if n := ledger.read.Load() - read; n > 70 {
			t.Errorf("reversing the latest of 303 transactions read %d events, want at most a page", n)
		}

		// Another process reverses the old redemption; this one, its
		// cache warm, must see it.
		other := newService(t, st, clk, 365)
		if _, err := other.Reverse(ctx, points.ReverseCommand{Account: alice, TransactionID: oldRedemption.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Reverse(ctx, points.ReverseCommand{Account: alice, TransactionID: oldRedemption.ID}); !errors.Is(err, points.ErrAlreadyReversed) {
			t.Fatalf("reversing again what another process reversed: %v, want ErrAlreadyReversed", err)
		}
		rev, err := s.Reverse(ctx, points.ReverseCommand{Account: alice, TransactionID: first.ID})
		if err != nil || rev.Amount != 50 {
			t.Fatalf("reversing the first issue, 305 transactions back: %+v, %v", rev, err)
		}
		if _, err := s.Reverse(ctx, points.ReverseCommand{Account: alice, TransactionID: rev.ID}); !errors.Is(err, points.ErrNotReversible) {
			t.Errorf("reversing a reversal: %v, want ErrNotReversible", err)
		}
		if _, err := s.Reverse(ctx, points.ReverseCommand{Account: alice, TransactionID: "no-such-transaction"}); !errors.Is(err, points.ErrTransactionNotFound) {
			t.Errorf("reversing an unknown transaction: %v, want ErrTransactionNotFound", err)
		}
		// 50 - 5 + 300 - 40, then +40, +5 and -50 by the reversals.
		if bal := sumStream(t, st.ledger, alice.String()); bal != 300 {
			t.Errorf("ledger sums to %d, want 300", bal)
		}
	})
}

// BenchmarkIssueOnDynamoDB: issues on a hot account through the points
// service on DynamoDB Local: the requests each makes, and the emulator's
// processor time per issue.
func BenchmarkIssueOnDynamoDB(b *testing.B) {
	var requests atomic.Int64
	count := func(o *ddb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("CountRequests",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					if awsmiddleware.GetOperationName(ctx) != "" {
						requests.Add(1)
					}
					return next.HandleFinalize(ctx, in)
				}), middleware.After)
		})
	}
	store := dynamotest.NewStore(b, count)
	ctx := context.Background()
	s, err := points.NewService(points.Deps{Ledger: store.Ledger(), Snapshots: store.Snapshots(), Clock: clock.NewManual(day0), IDs: clock.UUIDs{}}, points.Config{TTLDays: 365})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Issue(ctx, points.IssueCommand{Account: alice, Amount: 1}); err != nil {
		b.Fatal(err)
	}
	requests.Store(0)
	cpu0, cpuOK := dynamotest.CPUTime()
	n := 0
	for b.Loop() {
		n++
		if _, err := s.Issue(ctx, points.IssueCommand{Account: alice, Amount: 1, Key: time.Now().String()}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(requests.Load())/float64(n), "requests/issue")
	if cpu1, ok := dynamotest.CPUTime(); ok && cpuOK {
		b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(n), "emulator-cpu-µs/issue")
	}
}

// sumStream is the account's available points as a fresh service, with no
// cache and no snapshot, reads them from the whole stream.
func sumStream(t *testing.T, ledger ports.Ledger, account string) int64 {
	t.Helper()
	s, err := points.NewService(points.Deps{Ledger: ledger, Clock: clock.NewManual(day0), IDs: clock.UUIDs{}}, points.Config{TTLDays: 365, CachedAccounts: -1})
	if err != nil {
		t.Fatal(err)
	}
	id, err := points.ParseAccountID(account)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Load(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a.Available(day0)
}
