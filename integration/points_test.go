package integration

import (
	"context"
	"errors"
	"strings"

	"sync"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/domains/points"
	"github.com/unicornstore/unicorn/ports"
)

var day0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// Accounts of the tests: alice and bob of one client.
var (
	alice = points.MustAccountID("Store", "alice")
	bob   = points.MustAccountID("Store", "bob")
)

// newService returns a points service that snapshots every 5 events, so
// that tests go through snapshots often.
func newService(t *testing.T, st stores, clk ports.Clock, ttl int) *points.Service {
	t.Helper()
	s, err := points.NewService(points.Deps{Ledger: st.ledger, Snapshots: st.snapshots, Clock: clk, IDs: clock.UUIDs{}},
		points.Config{TTLDays: ttl, SnapshotEvery: 5})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkStream asserts the account's stream is seq 1..n without gaps.
func checkStream(t *testing.T, ledger ports.Ledger, account string) []ports.Event {
	t.Helper()
	evs, err := ledger.Load(context.Background(), account, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, ev := range evs {
		if ev.Seq != int64(i+1) {
			t.Fatalf("%s: event %d has seq %d: the stream has a gap", account, i, ev.Seq)
		}
	}
	return evs
}

// TestDoubleSpend: 50 concurrent redemptions of 10 from a balance of 200,
// through five service instances (five processes, or five Lambdas, sharing
// the ledger), end with exactly 20 successes and a balance of 0.
func TestDoubleSpend(t *testing.T) {
	eachBackend(t, func(t *testing.T, st stores) {
		ctx := context.Background()
		clk := clock.NewManual(day0)
		services := make([]*points.Service, 5)
		for i := range services {
			services[i] = newService(t, st, clk, 365)
		}
		if _, err := services[0].Issue(ctx, points.IssueCommand{Account: alice, Amount: 200}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, insufficient := 0, 0
		for i := range 50 {
			wg.Go(func() {
				_, err := services[i%5].Redeem(ctx, points.RedeemCommand{Account: alice, Amount: 10})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, points.ErrInsufficientPoints):
					insufficient++
				default:
					t.Errorf("redeem %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if ok != 20 || insufficient != 30 {
			t.Errorf("successes = %d, insufficient = %d; want 20 and 30", ok, insufficient)
		}
		acct, err := services[0].Load(ctx, alice)
		if err != nil {
			t.Fatal(err)
		}
		if got := acct.Available(clk.Now()); got != 0 {
			t.Errorf("balance = %d, want 0", got)
		}
		if evs := checkStream(t, st.ledger, alice.String()); len(evs) != 21 {
			t.Errorf("%d events, want 21 (one issue, 20 redemptions)", len(evs))
		}
	})
}

// TestSameKeyConcurrently: one key sent 20 times at once has one effect, and
// every caller gets the first result.
func TestSameKeyConcurrently(t *testing.T) {
	eachBackend(t, func(t *testing.T, st stores) {
		ctx := context.Background()
		clk := clock.NewManual(day0)
		services := []*points.Service{newService(t, st, clk, 365), newService(t, st, clk, 365)}
		var wg sync.WaitGroup
		ids := make([]string, 20)
		for i := range 20 {
			wg.Go(func() {
				tx, err := services[i%2].Issue(ctx, points.IssueCommand{Account: alice, Amount: 70, Key: "order:1:award"})
				if err != nil {
					t.Errorf("issue %d: %v", i, err)
					return
				}
				ids[i] = tx.ID
			})
		}
		wg.Wait()
		for i := range ids {
			if ids[i] != ids[0] {
				t.Errorf("caller %d got transaction %s, caller 0 got %s", i, ids[i], ids[0])
			}
		}
		if evs := checkStream(t, st.ledger, alice.String()); len(evs) != 1 {
			t.Errorf("%d events, want 1", len(evs))
		}
		// The same key for another command is refused.
		_, err := services[0].Issue(ctx, points.IssueCommand{Account: alice, Amount: 71, Key: "order:1:award"})
		if !errors.Is(err, points.ErrKeyReused) {
			t.Errorf("reused key: err = %v, want ErrKeyReused", err)
		}
	})
}

// TestKeysAndAccountsPerClient: two clients using the same account id and
// the same idempotency key reach two accounts and two keys. Neither can
// answer for, use up or learn of the other's.
func TestKeysAndAccountsPerClient(t *testing.T) {
	eachBackend(t, func(t *testing.T, st stores) {
		ctx := context.Background()
		s := newService(t, st, clock.NewManual(day0), 365)
		mine, theirs := points.MustAccountID("Store", "1234"), points.MustAccountID("Partner", "1234")
		first, err := s.Issue(ctx, points.IssueCommand{Account: mine, Amount: 100, Key: "k-1", Reference: "order:42"})
		if err != nil {
			t.Fatal(err)
		}
		// The partner's command under the same key and id is its own: a
		// different account, a different transaction, not a 422.
		other, err := s.Issue(ctx, points.IssueCommand{Account: theirs, Amount: 5, Key: "k-1"})
		if err != nil || other.ID == first.ID || other.Account != theirs || *other.BalanceAfter != 5 {
			t.Fatalf("partner's issue under the same key = %+v, %v", other, err)
		}
		// Repeats stay with their client.
		if again, err := s.Issue(ctx, points.IssueCommand{Account: mine, Amount: 100, Key: "k-1", Reference: "order:42"}); err != nil || again.ID != first.ID {
			t.Errorf("store's repeat = %+v, %v; want %s", again, err, first.ID)
		}
		if _, err := s.Issue(ctx, points.IssueCommand{Account: theirs, Amount: 6, Key: "k-1"}); !errors.Is(err, points.ErrKeyReused) {
			t.Errorf("partner's changed repeat: %v, want ErrKeyReused", err)
		}
		if found, err := s.Find(ctx, "Partner", "k-1"); err != nil || found.ID != other.ID {
			t.Errorf("Find(Partner, k-1) = %+v, %v", found, err)
		}
		if _, err := s.Find(ctx, "Nobody", "k-1"); !errors.Is(err, points.ErrTransactionNotFound) {
			t.Errorf("Find of another client's key: %v", err)
		}
		if evs := checkStream(t, st.ledger, mine.String()); len(evs) != 1 {
			t.Errorf("store's account has %d events, want 1", len(evs))
		}
		// An account cannot be reversed by naming another client's
		// transaction: the transaction is not in its stream.
		if _, err := s.Reverse(ctx, points.ReverseCommand{Account: theirs, TransactionID: first.ID}); !errors.Is(err, points.ErrTransactionNotFound) {
			t.Errorf("reversal of another client's transaction: %v", err)
		}
		// Replay tells an unused key from a used one, and a changed request.
		req := points.IssueCommand{Account: mine, Key: "award:7", Request: `{"amount":1700}`}
		if _, found, err := s.Replay(ctx, req); err != nil || found {
			t.Errorf("Replay of an unused key = %v, %v", found, err)
		}
		req.Amount = 170
		awarded, err := s.Issue(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		req.Amount = 999 // decided again later: the request is what counts
		if got, found, err := s.Replay(ctx, req); err != nil || !found || got.ID != awarded.ID || got.Amount != 170 {
			t.Errorf("Replay = %+v, %v, %v", got, found, err)
		}
		req.Request = `{"amount":1701}`
		if _, _, err := s.Replay(ctx, req); !errors.Is(err, points.ErrKeyReused) {
			t.Errorf("Replay of a changed request: %v", err)
		}
	})
}

// TestRepeatAfterSpending: a repeated redemption returns its first result
// even though the balance could no longer pay for it.
func TestRepeatAfterSpending(t *testing.T) {
	eachBackend(t, func(t *testing.T, st stores) {
		ctx := context.Background()
		s := newService(t, st, clock.NewManual(day0), 365)
		if _, err := s.Issue(ctx, points.IssueCommand{Account: alice, Amount: 100}); err != nil {
			t.Fatal(err)
		}
		first, err := s.Redeem(ctx, points.RedeemCommand{Account: alice, Amount: 100, Key: "pay:1"})
		if err != nil {
			t.Fatal(err)
		}
		again, err := s.Redeem(ctx, points.RedeemCommand{Account: alice, Amount: 100, Key: "pay:1"})
		if err != nil || again.ID != first.ID || *again.BalanceAfter != 0 {
			t.Errorf("repeat = %+v, %v; want the first result %s", again, err, first.ID)
		}
		if evs := checkStream(t, st.ledger, alice.String()); len(evs) != 2 {
			t.Errorf("%d events, want 2", len(evs))
		}
	})
}

// TestExpirySweep: with TTL 2, the day-0 lot is expired on day 2; the sweep
// appends an expired event for it, once, and the read model shows it.
func TestExpirySweep(t *testing.T) {
	eachBackend(t, func(t *testing.T, st stores) {
		ctx := context.Background()
		clk := clock.NewManual(day0)
		s := newService(t, st, clk, 2)
		rm, err := points.NewReadModel(st.ledger, st.balances, clk)
		if err != nil {
			t.Fatal(err)
		}
		for _, account := range []points.AccountID{alice, bob} {
			clk.Set(day0)
			if _, err := s.Issue(ctx, points.IssueCommand{Account: account, Amount: 100}); err != nil {
				t.Fatal(err)
			}
			clk.Set(day0.AddDate(0, 0, 1))
			if _, err := s.Issue(ctx, points.IssueCommand{Account: account, Amount: 50}); err != nil {
				t.Fatal(err)
			}
			if err := rm.CatchUp(ctx, account.String()); err != nil {
				t.Fatal(err)
			}
		}
		clk.Set(day0.AddDate(0, 0, 2))
		// Before any sweep the balance already excludes the expired lot.
		b, err := rm.Balance(ctx, alice, points.LotPage{})
		if err != nil {
			t.Fatal(err)
		}
		if b.Available != 50 || b.Lots[0].Status != "expired" || b.Lots[1].Status != "active" {
			t.Errorf("day 2 before sweep: %+v", b)
		}
		sw := points.NewSweeper(s, st.balances, clk)
		res, err := sw.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res != (points.SweepResult{Accounts: 2, Points: 200}) {
			t.Errorf("sweep = %+v, want 2 accounts, 200 points", res)
		}
		for _, account := range []points.AccountID{alice, bob} {
			if err := rm.CatchUp(ctx, account.String()); err != nil {
				t.Fatal(err)
			}
		}
		b, _ = rm.Balance(ctx, alice, points.LotPage{})
		if b.Available != 50 || b.Lots[0].Remaining != 0 || b.Lots[0].Expired != 100 {
			t.Errorf("day 2 after sweep: %+v", b)
		}
		if res, err := sw.Sweep(ctx); err != nil || res != (points.SweepResult{}) {
			t.Errorf("second sweep = %+v, %v; want nothing", res, err)
		}
		if evs := checkStream(t, st.ledger, alice.String()); len(evs) != 3 || evs[2].Type != points.EventExpired {
			t.Errorf("alice's stream: %d events, last %s", len(evs), evs[len(evs)-1].Type)
		}
	})
}

// TestExpiryOfManyLots: an account with more due lots than one append
// holds (DynamoDB: 100 items a transaction) has them all expired, and an
// account after it in the sweep too.
func TestExpiryOfManyLots(t *testing.T) {
	eachBackend(t, func(t *testing.T, st stores) {
		ctx := context.Background()
		clk := clock.NewManual(day0)
		s := newService(t, st, clk, 1)
		rm, err := points.NewReadModel(st.ledger, st.balances, clk)
		if err != nil {
			t.Fatal(err)
		}
		const days = 2*ports.MaxAppendEvents + 5
		for d := range days {
			clk.Set(day0.AddDate(0, 0, d))
			if _, err := s.Issue(ctx, points.IssueCommand{Account: alice, Amount: 1}); err != nil {
				t.Fatal(err)
			}
		}
		// bob's lot falls due after alice's first ones: the sweep meets
		// alice first.
		if _, err := s.Issue(ctx, points.IssueCommand{Account: bob, Amount: 7}); err != nil {
			t.Fatal(err)
		}
		for _, account := range []points.AccountID{alice, bob} {
			if err := rm.CatchUp(ctx, account.String()); err != nil {
				t.Fatal(err)
			}
		}
		// An account the sweep cannot expire (its id is damaged), due
		// before the others: the sweep reports it and goes on.
		err = st.balances.Update(ctx, "damaged", func(v *ports.BalanceView) (bool, error) {
			v.Seq, v.NextDue = 1, day0.Format(time.DateOnly)
			v.Lots = []ports.Lot{{IssuedOn: v.NextDue, ExpiresOn: v.NextDue, Issued: 1, Remaining: 1}}
			return true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		clk.Set(day0.AddDate(0, 0, days+1))
		res, err := points.NewSweeper(s, st.balances, clk).Sweep(ctx)
		if err == nil || !strings.Contains(err.Error(), "damaged") {
			t.Errorf("sweep error = %v, want one naming the damaged account", err)
		}
		if res != (points.SweepResult{Accounts: 2, Points: days + 7, Failed: 1}) {
			t.Errorf("sweep = %+v, want 2 accounts, %d points, 1 failed", res, days+7)
		}
		for _, account := range []points.AccountID{alice, bob} {
			if err := rm.CatchUp(ctx, account.String()); err != nil {
				t.Fatal(err)
			}
			if b, err := rm.Balance(ctx, account, points.LotPage{}); err != nil || b.Available != 0 {
				t.Errorf("%s after the sweep: %+v, %v", account, b, err)
			}
		}
		if evs := checkStream(t, st.ledger, alice.String()); len(evs) != 2*days {
			t.Errorf("alice's stream: %d events, want %d issued and %d expired", len(evs), days, days)
		}
	})
}
