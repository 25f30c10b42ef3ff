package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/domains/points"
	"github.com/unicornstore/unicorn/ports"
)

// TestRandomHistories runs random command sequences (issue, some of it
// pending, redeem, reverse in whole or in part, time passing, sweeps that
// mature and expire) over a few accounts, delivering the events to
// the read model late, out of order and more than once, as a change stream
// may. Then, for every account:
//   - the read model equals the command side's lots and a rebuild from the ledger;
//   - the signed sum of the ledger equals the sum of the lots;
//   - no lot is ever negative, nor the available balance;
//   - pending points are never spent: a redemption of more than is
//     available fails, whatever is pending.
func TestRandomHistories(t *testing.T) {
	steps := map[string]int{"sqlite": 400, "dynamodb": 120}
	for _, b := range backends {
		for seed := uint64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprintf("%s/seed=%d", b.name, seed), func(t *testing.T) {
				t.Parallel()
				runHistory(t, b.open(t), seed, steps[b.name])
			})
		}
	}
}

func runHistory(t *testing.T, st stores, seed uint64, steps int) {
	ledger, balances := st.ledger, st.balances
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 42))
	clk := clock.NewManual(day0)
	svc := newService(t, st, clk, 3)
	rm, err := points.NewReadModel(ledger, balances, clk)
	if err != nil {
		t.Fatal(err)
	}
	// Streams of three accounts, two of them with the same id in two clients.
	accounts := []string{"Store/alice", "Store/bob", "Partner/alice"}
	id := func(stream string) points.AccountID {
		a, err := points.ParseAccountID(stream)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	seen := map[string]int64{}     // last seq read from the ledger, per account
	txIDs := map[string][]string{} // transaction ids, per account
	var pending []ports.Event      // events not yet delivered to the read model
	collect := func(account string) {
		evs, err := ledger.Load(ctx, account, seen[account])
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			seen[account] = ev.Seq
			txIDs[account] = append(txIDs[account], ev.ID)
			pending = append(pending, ev)
		}
	}
	deliver := func(n int) {
		rng.Shuffle(len(pending), func(i, j int) { pending[i], pending[j] = pending[j], pending[i] })
		n = min(n, len(pending))
		for _, ev := range pending[:n] {
			if err := rm.Apply(ctx, ev); err != nil {
				t.Fatalf("apply %s seq %d: %v", ev.Account, ev.Seq, err)
			}
		}
		// Some delivered events stay pending: they will come again.
		var keep []ports.Event
		for i, ev := range pending {
			if i >= n || rng.IntN(5) == 0 {
				keep = append(keep, ev)
			}
		}
		pending = keep
	}

	for range steps {
		account := accounts[rng.IntN(len(accounts))]
		var err error
		switch op := rng.IntN(10); {
		case op < 4:
			cmd := points.IssueCommand{Account: id(account), Amount: 1 + rng.Int64N(100)}
			if rng.IntN(3) == 0 {
				cmd.PendingDays = 1 + rng.IntN(2) // a purchase's points, within the lots' 3-day life
			}
			_, err = svc.Issue(ctx, cmd)
		case op < 7:
			amount := 1 + rng.Int64N(150)
			before, lerr := svc.Load(ctx, id(account))
			if lerr != nil {
				t.Fatal(lerr)
			}
			_, err = svc.Redeem(ctx, points.RedeemCommand{Account: id(account), Amount: amount})
			if avail := before.Available(clk.Now()); err == nil && amount > avail {
				t.Fatalf("%s: redeemed %d with %d available (%d pending)", account, amount, avail, before.Pending())
			}
		case op < 8 && len(txIDs[account]) > 0:
			ids := txIDs[account]
			cmd := points.ReverseCommand{Account: id(account), TransactionID: ids[rng.IntN(len(ids))]}
			if rng.IntN(2) == 0 {
				cmd.Amount = 1 + rng.Int64N(60) // a return of part of an order
			}
			_, err = svc.Reverse(ctx, cmd)
		case op < 9:
			clk.Advance(time.Duration(rng.IntN(30)) * time.Hour)
		default:
			_, err = points.NewSweeper(svc, balances, clk).Sweep(ctx)
		}
		switch {
		case err == nil, errors.Is(err, points.ErrInsufficientPoints), errors.Is(err, points.ErrAlreadyReversed), errors.Is(err, points.ErrNotReversible),
			errors.Is(err, points.ErrReversalTooLarge):
		default:
			t.Fatalf("command: %v", err)
		}
		for _, a := range accounts {
			collect(a)
		}
		if rng.IntN(3) == 0 {
			deliver(rng.IntN(6))
		}
	}
	for len(pending) > 0 {
		deliver(len(pending))
	}

	live := map[string]ports.BalanceView{}
	for _, account := range accounts {
		v, err := balances.Get(ctx, account)
		if errors.Is(err, ports.ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		live[account] = v
		acct, err := svc.Load(ctx, id(account))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(acct.Lots(), v.Lots); diff != "" {
			t.Errorf("%s: read model differs from the command side (-command +read):\n%s", account, diff)
		}
		if v.Seq != acct.Version() {
			t.Errorf("%s: read model at seq %d, ledger at %d", account, v.Seq, acct.Version())
		}
		var lots int64
		for _, l := range v.Lots {
			if l.Remaining < 0 || l.Pending < 0 {
				t.Errorf("%s: lot %s is negative (%d, %d pending)", account, l.IssuedOn, l.Remaining, l.Pending)
			}
			lots += l.Remaining + l.Pending
		}
		if sum := signedSum(t, ledger, account); sum != lots {
			t.Errorf("%s: the ledger sums to %d, the lots hold %d", account, sum, lots)
		}
		if acct.Available(clk.Now()) < 0 {
			t.Errorf("%s: negative balance", account)
		}
	}
	if err := rm.Rebuild(ctx, 7, nil); err != nil {
		t.Fatal(err)
	}
	for account, want := range live {
		got, err := balances.Get(ctx, account)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: rebuild differs (-live +rebuilt):\n%s", account, diff)
		}
	}
}

// signedSum adds up the ledger: issued − redeemed − expired − issues
// reversed + redemptions reversed.
func signedSum(t *testing.T, ledger ports.Ledger, account string) int64 {
	t.Helper()
	var sum int64
	evs, err := ledger.Load(context.Background(), account, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		var amount struct{ Amount int64 }
		if err := json.Unmarshal(ev.Data, &amount); err != nil {
			t.Fatal(err)
		}
		switch ev.Type {
		case points.EventIssued, points.EventRedemptionReversed:
			sum += amount.Amount
		case points.EventRedeemed, points.EventExpired, points.EventIssueReversed:
			sum -= amount.Amount
		case points.EventMatured: // pending to spendable, within the account
		default:
			t.Fatalf("unknown event type %s", ev.Type)
		}
	}
	return sum
}
