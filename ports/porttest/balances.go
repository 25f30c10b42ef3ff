package porttest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/unicornstore/unicorn/ports"
)

// NewBalances returns an empty read model for one test.
type NewBalances func(t *testing.T) ports.Balances

func view(account string, seq int64, lots ...ports.Lot) ports.BalanceView {
	v := ports.BalanceView{Account: account, Seq: seq, Lots: lots, UpdatedAt: t0.Add(time.Duration(seq) * time.Minute)}
	for _, l := range lots {
		if l.Remaining > 0 && (v.NextDue == "" || l.ExpiresOn < v.NextDue) {
			v.NextDue = l.ExpiresOn
		}
	}
	return v
}

func lot(day, expires string, remaining int64) ports.Lot {
	return ports.Lot{IssuedOn: day, ExpiresOn: expires, Issued: remaining + 5, Remaining: remaining, Expired: 5, LastUpdated: t0}
}

func put(t *testing.T, b ports.Balances, v ports.BalanceView) {
	t.Helper()
	err := b.Update(context.Background(), v.Account, func(cur *ports.BalanceView) (bool, error) {
		*cur = v
		return true, nil
	})
	if err != nil {
		t.Fatalf("put %s: %v", v.Account, err)
	}
}

// TestBalances is the contract of ports.Balances.
func TestBalances(t *testing.T, newBalances NewBalances) {
	ctx := context.Background()

	t.Run("unknown account is not found", func(t *testing.T) {
		t.Parallel()
		b := newBalances(t)
		if _, err := b.Get(ctx, "nobody"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})

	t.Run("pending points are kept apart from what can be spent", func(t *testing.T) {
		t.Parallel()
		b := newBalances(t)
		pending := ports.Lot{IssuedOn: "2026-01-02", ExpiresOn: "2027-01-02", Issued: 40, Pending: 40, MaturesOn: "2026-02-01", LastUpdated: t0}
		v := view("acct-p", 2, lot("2026-01-01", "2027-01-01", 10), pending)
		v.NextDue = "2026-02-01"
		put(t, b, v)
		got, err := b.Get(ctx, "acct-p")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(v.Lots, got.Lots, cmpopts.EquateApproxTime(time.Millisecond)); diff != "" || got.Pending != 40 {
			t.Errorf("Get: pending %d (want 40), lots (-want +got):\n%s", got.Pending, diff)
		}
		sum, sums, err := b.Summary(ctx, "acct-p", "2026-01-05")
		if err != nil || sum.Pending != 40 || sums[0] != 10 || sum.NextDue != "2026-02-01" {
			t.Errorf("Summary: pending %d, available %v, next due %q, %v; want 40, [10], 2026-02-01", sum.Pending, sums, sum.NextDue, err)
		}
		if accounts, _, err := b.Due(ctx, "2026-02-01", "", 10); err != nil || len(accounts) != 1 {
			t.Errorf("Due on the maturity day = %v, %v", accounts, err)
		}
		// Matured: the points move to what remains, nothing is pending.
		matured := pending
		matured.Pending, matured.MaturesOn, matured.Remaining = 0, "", 40
		v2 := view("acct-p", 3, lot("2026-01-01", "2027-01-01", 10), matured)
		put(t, b, v2)
		got, err = b.Get(ctx, "acct-p")
		if err != nil || got.Pending != 0 || len(got.Lots) != 2 || got.Lots[1].Remaining != 40 || got.Lots[1].Pending != 0 {
			t.Errorf("after maturing: %+v, %v", got, err)
		}
		if sum, sums, err := b.Summary(ctx, "acct-p", "2026-02-02"); err != nil || sum.Pending != 0 || sums[0] != 50 {
			t.Errorf("Summary after maturing: pending %d, available %v, %v", sum.Pending, sums, err)
		}
	})

	t.Run("update stores the view; get returns it", func(t *testing.T) {
		t.Parallel()
		b := newBalances(t)
		err := b.Update(ctx, "alice", func(v *ports.BalanceView) (bool, error) {
			if v.Account != "alice" || v.Seq != 0 || len(v.Lots) != 0 {
				t.Errorf("new view = %+v, want empty view of alice", v)
			}
			return false, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Get(ctx, "alice"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("unchanged update stored a view (err %v)", err)
		}
		if _, _, err := b.Summary(ctx, "alice"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("Summary of no view: %v, want ErrNotFound", err)
		}
		want := view("alice", 3, lot("2026-11-20", "2026-11-22", 10), lot("2026-11-21", "2026-11-23", 0))
		put(t, b, want)
		got, err := b.Get(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Get (-want +got):\n%s", diff)
		}
		// Lots change, appear and disappear.
		want = view("alice", 4, lot("2026-11-21", "2026-11-23", 7), lot("2026-11-22", "2026-11-24", 1))
		err = b.Update(ctx, "alice", func(v *ports.BalanceView) (bool, error) {
			if v.Seq != 3 || len(v.Lots) != 2 {
				t.Errorf("view passed to update = %+v, want the stored one", v)
			}
			*v = want
			return true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ = b.Get(ctx, "alice")
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Get after change (-want +got):\n%s", diff)
		}
	})

	t.Run("summary sums what expires after each day; lots come in pages", func(t *testing.T) {
		t.Parallel()
		b := newBalances(t)
		lots := []ports.Lot{
			lot("2026-01-01", "2026-01-03", 0), // spent or expired
			lot("2026-01-02", "2026-01-04", 7),
			lot("2026-01-03", "2026-01-05", 0),
			lot("2026-01-04", "2026-01-06", 20),
			lot("2026-01-05", "2026-01-07", 300),
		}
		want := view("alice", 9, lots...)
		put(t, b, want)
		put(t, b, view("bob", 1, lot("2026-01-04", "2026-01-06", 1000)))
		v, sums, err := b.Summary(ctx, "alice", "2026-01-01", "2026-01-04", "2026-01-06", "2026-01-07")
		if err != nil {
			t.Fatal(err)
		}
		if v.Seq != 9 || v.NextDue != "2026-01-04" || !v.UpdatedAt.Equal(want.UpdatedAt) || len(v.Lots) != 0 {
			t.Errorf("Summary view = %+v, want seq 9, next expiry 2026-01-04, no lots", v)
		}
		if diff := cmp.Diff([]int64{327, 320, 300, 0}, sums); diff != "" {
			t.Errorf("sums (-want +got):\n%s", diff)
		}
		for _, tc := range []struct {
			after, expiringAfter string
			limit                int
			want                 []ports.Lot
		}{
			{"", "", 2, lots[:2]},
			{"2026-01-02", "", 2, lots[2:4]},
			{"2026-01-04", "", 2, lots[4:]},
			{"2026-01-05", "", 2, nil},
			{"", "2026-01-04", 10, lots[2:]},
			{"2026-01-03", "2026-01-04", 1, lots[3:4]},
		} {
			got, err := b.Lots(ctx, "alice", tc.after, tc.limit, tc.expiringAfter)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Lots(after %q, limit %d, expiring after %q) (-want +got):\n%s", tc.after, tc.limit, tc.expiringAfter, diff)
			}
		}
		if got, err := b.Lots(ctx, "nobody", "", 10, ""); err != nil || len(got) != 0 {
			t.Errorf("Lots of nobody = %v, %v; want none", got, err)
		}
	})

	t.Run("an error from fn writes nothing", func(t *testing.T) {
		t.Parallel()
		b := newBalances(t)
		put(t, b, view("alice", 1, lot("2026-11-20", "2026-11-22", 10)))
		boom := errors.New("boom")
		err := b.Update(ctx, "alice", func(v *ports.BalanceView) (bool, error) {
			v.Seq = 99
			v.Lots = nil
			return true, boom
		})
		if !errors.Is(err, boom) {
			t.Errorf("err = %v, want boom", err)
		}
		if got, _ := b.Get(ctx, "alice"); got.Seq != 1 || len(got.Lots) != 1 {
			t.Errorf("view changed by a failed update: %+v", got)
		}
	})

	t.Run("20 concurrent updates lose nothing", func(t *testing.T) {
		t.Parallel()
		b := newBalances(t)
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				err := b.Update(ctx, "alice", func(v *ports.BalanceView) (bool, error) {
					v.Seq++
					if len(v.Lots) == 0 {
						v.Lots = []ports.Lot{lot("2026-11-20", "2026-11-22", 0)}
					}
					v.Lots[0].Remaining++
					v.UpdatedAt = t0
					return true, nil
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		got, err := b.Get(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if got.Seq != 20 || got.Lots[0].Remaining != 20 {
			t.Errorf("after 20 increments: seq %d, remaining %d; want 20, 20", got.Seq, got.Lots[0].Remaining)
		}
	})

	t.Run("expiring pages through accounts due by a day", func(t *testing.T) {
		t.Parallel()
		b := newBalances(t)
		var want []string
		for i := range 7 {
			account := fmt.Sprint("due-", i)
			put(t, b, view(account, 1, lot("2026-11-01", fmt.Sprintf("2026-11-%02d", 10+i), 3)))
			if 10+i <= 14 {
				want = append(want, account)
			}
		}
		put(t, b, view("later", 1, lot("2026-11-01", "2026-12-01", 3)))
		put(t, b, view("empty", 1, lot("2026-11-01", "2026-11-02", 0)))
		var got []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 20 {
				t.Fatal("Expiring does not end")
			}
			accounts, next, err := b.Due(ctx, "2026-11-14", cursor, 2)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, accounts...)
			if next == "" {
				break
			}
			cursor = next
		}
		sort.Strings(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Expiring (-want +got):\n%s", diff)
		}
	})

	t.Run("reset deletes every view", func(t *testing.T) {
		t.Parallel()
		b := newBalances(t)
		put(t, b, view("alice", 1, lot("2026-11-20", "2026-11-22", 10)))
		put(t, b, view("bob", 2, lot("2026-11-20", "2026-11-22", 10)))
		if err := b.Reset(ctx); err != nil {
			t.Fatal(err)
		}
		for _, a := range []string{"alice", "bob"} {
			if _, err := b.Get(ctx, a); !errors.Is(err, ports.ErrNotFound) {
				t.Errorf("%s after reset: err = %v, want ErrNotFound", a, err)
			}
		}
		if accounts, _, err := b.Due(ctx, "2030-01-01", "", 10); err != nil || len(accounts) != 0 {
			t.Errorf("Expiring after reset = %v, %v", accounts, err)
		}
	})
}
