package points

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/unicornstore/unicorn/ports"
)

// day0 is a Monday noon; dayN(n) is noon n days later.
var day0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func dayN(n int) time.Time { return day0.AddDate(0, 0, n) }

// alice is the account of most tests.
var alice = MustAccountID("C", "alice")

type counter struct{ n int }

func (c *counter) NewID() string { c.n++; return fmt.Sprint("ev-", c.n) }

// history drives an Account through decisions the way Service does, without
// storage: each decision's events are recorded and applied.
type history struct {
	t    *testing.T
	svc  *Service
	acct *Account
	all  []ports.Event
}

func newHistory(t *testing.T, ttl int) *history {
	acct, _ := RehydrateAccount(alice, nil)
	return &history{t: t, svc: &Service{ids: &counter{}, ttlDays: ttl}, acct: acct}
}

func (h *history) commit(at time.Time, changes ...change) []Transaction {
	h.t.Helper()
	app, txs, err := h.svc.record(h.acct, changes, at)
	if err != nil {
		h.t.Fatal(err)
	}
	h.all = append(h.all, app.Events...)
	return txs
}

func (h *history) issue(at time.Time, n int64) Transaction {
	h.t.Helper()
	return h.commit(at, h.acct.decideIssue(n, at, h.svc.ttlDays, 0, "", nil))[0]
}

func (h *history) redeem(at time.Time, n int64) (Transaction, error) {
	h.t.Helper()
	r, err := h.acct.decideRedeem(n, at, "")
	if err != nil {
		return Transaction{}, err
	}
	return h.commit(at, r)[0], nil
}

// reverse takes back transaction id, found as the service finds it: by
// scanning the stream newest first, here a page of three at a time.
func (h *history) reverse(at time.Time, id string) (Transaction, error) {
	h.t.Helper()
	return h.reversePart(at, id, 0)
}

// reversePart takes back n points of transaction id (0: all that is left).
func (h *history) reversePart(at time.Time, id string, n int64) (Transaction, error) {
	h.t.Helper()
	scan := reversalScan{id: id}
	for end := len(h.all); end > 0 && scan.found == nil; end = max(0, end-3) {
		page := slices.Clone(h.all[max(0, end-3):end])
		slices.Reverse(page)
		if _, err := scan.read(page); err != nil {
			h.t.Fatal(err)
		}
	}
	if scan.found == nil {
		return Transaction{}, ErrTransactionNotFound
	}
	c, err := h.acct.decideReverse(*scan.found, n, at)
	if err != nil {
		return Transaction{}, err
	}
	return h.commit(at, c)[0], nil
}

func (h *history) remaining() map[string]int64 {
	out := map[string]int64{}
	for _, l := range h.acct.book.lots {
		out[l.IssuedOn] = l.Remaining
	}
	return out
}

// checkInvariants: no lot negative; the signed sum of the events equals the
// sum of the lots; a replay of the events gives the same account.
func (h *history) checkInvariants() {
	h.t.Helper()
	var signed int64
	for _, ev := range h.all {
		c, err := decode(ev)
		if err != nil {
			h.t.Fatal(err)
		}
		switch e := c.(type) {
		case Issued:
			signed += e.Amount
		case Redeemed:
			signed -= e.Amount
		case Expired:
			signed -= e.Amount
		case IssueReversed:
			signed -= e.Amount
		case RedemptionReversed:
			signed += e.Amount
		}
	}
	for _, l := range h.acct.book.lots {
		if l.Remaining < 0 || l.Pending < 0 {
			h.t.Errorf("lot %s is negative: %d (%d pending)", l.IssuedOn, l.Remaining, l.Pending)
		}
	}
	if got := h.acct.book.total(); got != signed {
		h.t.Errorf("lots hold %d, the ledger sums to %d", got, signed)
	}
	replayed, err := RehydrateAccount(alice, h.all)
	if err != nil {
		h.t.Fatal(err)
	}
	if diff := cmp.Diff(h.acct.book.lots, replayed.book.lots); diff != "" {
		h.t.Errorf("replay differs (-live +replay):\n%s", diff)
	}
	if diff := cmp.Diff(h.acct.earned, replayed.earned); diff != "" || h.acct.tier != replayed.tier {
		h.t.Errorf("replayed tier and earnings differ (-live +replay):\n%s%q %q", diff, h.acct.tier, replayed.tier)
	}
}

func TestExpiryAndOldestFirst(t *testing.T) {
	h := newHistory(t, 2) // seed 003's TTL
	h.issue(dayN(0), 100)
	h.issue(dayN(1), 50)
	if got := h.acct.Available(dayN(1)); got != 150 {
		t.Errorf("day 1 available = %d, want 150", got)
	}
	// Day 2: the day-0 lot expired at midnight; it is excluded from the
	// balance and from redemption even before any sweep.
	if got := h.acct.Available(dayN(2)); got != 50 {
		t.Errorf("day 2 available = %d, want 50", got)
	}
	_, err := h.redeem(dayN(2), 60)
	var ip *InsufficientPointsError
	if !errors.As(err, &ip) || ip.Available != 50 || ip.Requested != 60 || !errors.Is(err, ErrInsufficientPoints) {
		t.Fatalf("redeem 60 on day 2: err = %v, want insufficient (available 50)", err)
	}
	tx, err := h.redeem(dayN(2), 30)
	if err != nil {
		t.Fatal(err)
	}
	want := []Allocation{{Lot: "2026-03-03", ExpiresOn: "2026-03-05", Amount: 30}}
	if diff := cmp.Diff(want, tx.Allocations); diff != "" {
		t.Errorf("allocations (-want +got):\n%s", diff)
	}
	if *tx.BalanceAfter != 20 {
		t.Errorf("balance after = %d, want 20", *tx.BalanceAfter)
	}
	// The sweep removes exactly the expired lot's points.
	changes := h.acct.decideExpire(dayN(2))
	if diff := cmp.Diff([]change{Expired{Lot: "2026-03-02", ExpiresOn: "2026-03-04", Amount: 100}}, changes); diff != "" {
		t.Errorf("expire (-want +got):\n%s", diff)
	}
	h.commit(dayN(2), changes...)
	if n := len(h.acct.decideExpire(dayN(2))); n != 0 {
		t.Errorf("second sweep expires %d lots, want 0", n)
	}
	h.checkInvariants()
}

func TestRedeemTakesOldestLotsFirst(t *testing.T) {
	h := newHistory(t, 365)
	h.issue(dayN(0), 100)
	h.issue(dayN(0).Add(time.Hour), 10) // same UTC day: same lot
	h.issue(dayN(1), 50)
	h.issue(dayN(3), 5)
	tx, err := h.redeem(dayN(3), 130)
	if err != nil {
		t.Fatal(err)
	}
	want := []Allocation{{"2026-03-02", "2027-03-02", 110}, {"2026-03-03", "2027-03-03", 20}}
	if diff := cmp.Diff(want, tx.Allocations); diff != "" {
		t.Errorf("allocations (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int64{"2026-03-02": 0, "2026-03-03": 30, "2026-03-05": 5}, h.remaining()); diff != "" {
		t.Errorf("lots (-want +got):\n%s", diff)
	}
	h.checkInvariants()
}

func TestReverseRedemptionRestoresExactLots(t *testing.T) {
	h := newHistory(t, 2)
	h.issue(dayN(0), 100)
	h.issue(dayN(1), 50)
	before := h.acct.Lots()
	red, err := h.redeem(dayN(1), 120)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := h.reverse(dayN(1), red.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rev.Type != TxRedemptionReversal || rev.Amount != 120 || rev.Reverses != red.ID {
		t.Errorf("reversal = %+v", rev)
	}
	after := h.acct.Lots()
	for i := range before {
		if before[i].IssuedOn != after[i].IssuedOn || before[i].ExpiresOn != after[i].ExpiresOn || before[i].Remaining != after[i].Remaining {
			t.Errorf("lot %d: before %+v, after %+v", i, before[i], after[i])
		}
	}
	if _, err := h.reverse(dayN(1), red.ID); !errors.Is(err, ErrAlreadyReversed) {
		t.Errorf("second reversal: err = %v, want ErrAlreadyReversed", err)
	}
	if _, err := h.reverse(dayN(1), rev.ID); !errors.Is(err, ErrNotReversible) {
		t.Errorf("reversal of a reversal: err = %v, want ErrNotReversible", err)
	}
	if _, err := h.reverse(dayN(1), "no-such-id"); !errors.Is(err, ErrTransactionNotFound) {
		t.Errorf("unknown id: err = %v, want ErrTransactionNotFound", err)
	}
	h.checkInvariants()
}

func TestPartialReversalsNeverTakeBackMoreThanMoved(t *testing.T) {
	t.Run("redemption: parts go back to their own lots, newest lot first", func(t *testing.T) {
		h := newHistory(t, 365)
		h.issue(dayN(0), 100)
		h.issue(dayN(1), 50)
		before := h.acct.Lots()
		red, err := h.redeem(dayN(1), 120) // 100 from day 0, 20 from day 1
		if err != nil {
			t.Fatal(err)
		}
		first, err := h.reversePart(dayN(2), red.ID, 30)
		if err != nil {
			t.Fatal(err)
		}
		want := []Allocation{{"2026-03-03", "2027-03-03", 20}, {"2026-03-02", "2027-03-02", 10}}
		if diff := cmp.Diff(want, first.Allocations); diff != "" {
			t.Errorf("first part (-want +got):\n%s", diff)
		}
		if _, err := h.reversePart(dayN(2), red.ID, 91); !errors.Is(err, ErrReversalTooLarge) {
			t.Errorf("91 of the 90 left: err = %v, want ErrReversalTooLarge", err)
		}
		rest, err := h.reverse(dayN(2), red.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rest.Amount != 90 || len(rest.Allocations) != 1 || rest.Allocations[0].Lot != "2026-03-02" {
			t.Errorf("the rest = %+v, want 90 from the day-0 lot", rest)
		}
		if diff := cmp.Diff(before, h.acct.Lots(), cmpopts.IgnoreFields(ports.Lot{}, "LastUpdated")); diff != "" {
			t.Errorf("lots after every part (-before +after):\n%s", diff)
		}
		if _, err := h.reversePart(dayN(2), red.ID, 1); !errors.Is(err, ErrAlreadyReversed) {
			t.Errorf("a part after all: err = %v, want ErrAlreadyReversed", err)
		}
		h.checkInvariants()
	})
	t.Run("issue: what was unrecovered counts as taken back", func(t *testing.T) {
		h := newHistory(t, 365)
		iss := h.issue(dayN(0), 40)
		if _, err := h.redeem(dayN(0), 35); err != nil {
			t.Fatal(err)
		}
		part, err := h.reversePart(dayN(1), iss.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if part.Amount != 5 || part.Unrecovered != 5 {
			t.Errorf("part took %d, unrecovered %d; want 5, 5", part.Amount, part.Unrecovered)
		}
		rest, err := h.reverse(dayN(1), iss.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rest.Amount != 0 || rest.Unrecovered != 30 {
			t.Errorf("the rest took %d, unrecovered %d; want 0, 30", rest.Amount, rest.Unrecovered)
		}
		if _, err := h.reverse(dayN(1), iss.ID); !errors.Is(err, ErrAlreadyReversed) {
			t.Errorf("again: err = %v, want ErrAlreadyReversed", err)
		}
		h.checkInvariants()
	})
}

func TestPendingPointsCannotBeSpentUntilTheyMature(t *testing.T) {
	h := newHistory(t, 365)
	h.issue(dayN(0), 100)
	award := h.commit(dayN(1), h.acct.decideIssue(40, dayN(1), 365, 30, "order:1", nil))[0]
	if award.MaturesOn != "2026-04-02" {
		t.Errorf("matures on %q, want 2026-04-02 (30 days after 2026-03-03)", award.MaturesOn)
	}
	if got := h.acct.Available(dayN(1)); got != 100 {
		t.Errorf("available = %d, want 100: pending points are not spendable", got)
	}
	if _, err := h.redeem(dayN(2), 101); !errors.Is(err, ErrInsufficientPoints) {
		t.Errorf("spending pending points: err = %v, want ErrInsufficientPoints", err)
	}
	if due := h.acct.decideMature(dayN(30)); len(due) != 0 {
		t.Errorf("matured a day early: %+v", due)
	}
	// A return within the window cancels pending points first.
	rev, err := h.reversePart(dayN(10), award.ID, 15)
	if err != nil {
		t.Fatal(err)
	}
	if rev.Pending != 15 || rev.Amount != 15 || len(rev.Allocations) != 0 || h.acct.Available(dayN(10)) != 100 {
		t.Errorf("reversal within the window = %+v, available %d", rev, h.acct.Available(dayN(10)))
	}
	due := h.acct.decideMature(dayN(31))
	if len(due) != 1 || due[0].(Matured).Amount != 25 {
		t.Fatalf("maturing = %+v, want the 25 left", due)
	}
	h.commit(dayN(31), due...)
	if got := h.acct.Available(dayN(31)); got != 125 {
		t.Errorf("available after maturing = %d, want 125", got)
	}
	if again := h.acct.decideMature(dayN(31)); len(again) != 0 {
		t.Errorf("maturing twice: %+v", again)
	}
	// Matured points are taken back like any others.
	rest, err := h.reverse(dayN(32), award.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rest.Pending != 0 || rest.Amount != 25 {
		t.Errorf("reversal after maturing = %+v", rest)
	}
	h.checkInvariants()
}

// TestReversingAGrantLeavesAPurchasesPendingPoints: a grant and a
// purchase's pending award on the same day share a lot; reversing the grant
// takes the grant's spendable points, not the award's pending ones.
func TestReversingAGrantLeavesAPurchasesPendingPoints(t *testing.T) {
	h := newHistory(t, 365)
	grant := h.issue(dayN(0), 250)
	h.commit(dayN(0), h.acct.decideIssue(65, dayN(0), 365, 30, "order:1", nil))
	rev, err := h.reverse(dayN(1), grant.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rev.Pending != 0 || rev.Amount != 250 || rev.Unrecovered != 0 {
		t.Errorf("reversal of the grant = %+v, want its 250 spendable points and no pending", rev)
	}
	if got, pending := h.acct.Available(dayN(1)), h.acct.book.pending(); got != 0 || pending != 65 {
		t.Errorf("after the reversal: available %d, pending %d; want 0 and the award's 65", got, pending)
	}
	h.checkInvariants()
}

// goldAt is a policy of two tiers: gold from 100 points earned in 30 days.
type goldAt struct{}

func (goldAt) WindowDays() int { return 30 }
func (goldAt) Tier(earned int64) (string, string) {
	if earned >= 100 {
		return "gold", "earned 100 or more"
	}
	return "member", "earned under 100"
}

func TestTierFollowsWhatWasEarnedInTheWindow(t *testing.T) {
	h := newHistory(t, 365)
	review := func(at time.Time) []change { return h.acct.decideTier(at, goldAt{}) }
	if got := review(dayN(0)); len(got) != 1 || got[0].(TierChanged).To != "member" {
		t.Fatalf("first review = %+v, want a move to member", got)
	}
	h.commit(dayN(0), review(dayN(0))...)
	h.issue(dayN(1), 60)
	iss := h.commit(dayN(2), h.acct.decideIssue(50, dayN(2), 365, 10, "order:1", nil))[0] // pending counts as earned
	got := review(dayN(2))
	if len(got) != 1 || got[0].(TierChanged).To != "gold" || got[0].(TierChanged).Earned != 110 || got[0].(TierChanged).From != "member" {
		t.Fatalf("review after 110 earned = %+v", got)
	}
	h.commit(dayN(2), got...)
	if h.acct.Tier() != "gold" || len(review(dayN(2))) != 0 {
		t.Errorf("tier %q, and a second review changes %v", h.acct.Tier(), review(dayN(2)))
	}
	// A return takes back what it earned: below 100, back to member.
	if _, err := h.reversePart(dayN(3), iss.ID, 20); err != nil {
		t.Fatal(err)
	}
	if got := review(dayN(3)); len(got) != 1 || got[0].(TierChanged).To != "member" || got[0].(TierChanged).Earned != 90 {
		t.Errorf("after the return = %+v", got)
	}
	// Out of the window, what was earned no longer counts.
	h.issue(dayN(20), 30)
	if e := h.acct.Earned(dayN(31), 30); e != 30+30 {
		t.Errorf("earned in the 30 days to day 31 = %d, want 60 (days 2 and 20)", e)
	}
	if e := h.acct.Earned(dayN(33), 30); e != 30 {
		t.Errorf("earned in the 30 days to day 33 = %d, want 30", e)
	}
	h.checkInvariants()
}

func TestReverseRedemptionIntoExpiredLot(t *testing.T) {
	// Points go back to their own lot with its original expiry: if that
	// lot has expired meanwhile, the restored points are expired too.
	h := newHistory(t, 2)
	h.issue(dayN(0), 100)
	red, _ := h.redeem(dayN(1), 100)
	if _, err := h.reverse(dayN(3), red.ID); err != nil {
		t.Fatal(err)
	}
	if got := h.acct.Available(dayN(3)); got != 0 {
		t.Errorf("available = %d, want 0 (restored into an expired lot)", got)
	}
	h.commit(dayN(3), h.acct.decideExpire(dayN(3))...)
	if got := h.acct.book.total(); got != 0 {
		t.Errorf("after sweep the lots hold %d, want 0", got)
	}
	h.checkInvariants()
}

func TestReverseIssue(t *testing.T) {
	tests := []struct {
		name            string
		spend           int64 // redeemed after both issues, on day 1
		wantAmount      int64
		wantUnrecovered int64
		wantAllocs      []Allocation
	}{
		{"unspent: all from its own lot", 0, 40, 0, []Allocation{{"2026-03-03", "2027-03-03", 40}}},
		// The day-0 lot (100) is spent first, so 60 of 110 leaves the day-1
		// lot whole: the reversal still takes all 40 from it.
		{"older lot spent first", 60, 40, 0, []Allocation{{"2026-03-03", "2027-03-03", 40}}},
		// 130 spent: day-0 lot empty, day-1 lot holds 10 of its 40.
		{"partly spent: rest from other lots, none left", 130, 10, 30, []Allocation{{"2026-03-03", "2027-03-03", 10}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHistory(t, 365)
			h.issue(dayN(0), 100)
			iss := h.issue(dayN(1), 40)
			if tt.spend > 0 {
				if _, err := h.redeem(dayN(1), tt.spend); err != nil {
					t.Fatal(err)
				}
			}
			rev, err := h.reverse(dayN(2), iss.ID)
			if err != nil {
				t.Fatal(err)
			}
			if rev.Amount != tt.wantAmount || rev.Unrecovered != tt.wantUnrecovered {
				t.Errorf("reversal took %d, unrecovered %d; want %d, %d", rev.Amount, rev.Unrecovered, tt.wantAmount, tt.wantUnrecovered)
			}
			if diff := cmp.Diff(tt.wantAllocs, rev.Allocations); diff != "" {
				t.Errorf("allocations (-want +got):\n%s", diff)
			}
			h.checkInvariants()
		})
	}

	t.Run("own lot spent: taken from the oldest other lots", func(t *testing.T) {
		h := newHistory(t, 365)
		h.issue(dayN(0), 100)
		iss := h.issue(dayN(1), 40)
		h.issue(dayN(2), 30)
		// Spend 100 + 40: the day-0 and day-1 lots are empty.
		if _, err := h.redeem(dayN(2), 140); err != nil {
			t.Fatal(err)
		}
		h.issue(dayN(3), 5)
		rev, err := h.reverse(dayN(3), iss.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []Allocation{{"2026-03-04", "2027-03-04", 30}, {"2026-03-05", "2027-03-05", 5}}
		if diff := cmp.Diff(want, rev.Allocations); diff != "" {
			t.Errorf("allocations (-want +got):\n%s", diff)
		}
		if rev.Amount != 35 || rev.Unrecovered != 5 || h.acct.Available(dayN(3)) != 0 {
			t.Errorf("took %d, unrecovered %d, available %d; want 35, 5, 0", rev.Amount, rev.Unrecovered, h.acct.Available(dayN(3)))
		}
		h.checkInvariants()
	})
}

func TestLotKeepsItsFirstExpiry(t *testing.T) {
	h := newHistory(t, 2)
	h.issue(dayN(0), 10)
	h.svc.ttlDays = 30 // configuration changed during the day
	tx := h.issue(dayN(0).Add(time.Hour), 10)
	if tx.ExpiresOn != "2026-03-04" {
		t.Errorf("second issue of the day expires %s, want the lot's 2026-03-04", tx.ExpiresOn)
	}
	if tx := h.issue(dayN(1), 10); tx.ExpiresOn != "2026-04-02" {
		t.Errorf("next day's lot expires %s, want 2026-04-02", tx.ExpiresOn)
	}
}

func TestRehydrateRejectsBrokenStreams(t *testing.T) {
	h := newHistory(t, 2)
	h.issue(dayN(0), 10)
	h.issue(dayN(0), 10)
	ev := h.all
	gap := []ports.Event{ev[0], ev[1]}
	gap[1].Seq = 3
	bad := ev[1]
	bad.Data = json.RawMessage(`{"amount":"ten"}`)
	unknown := ev[1]
	unknown.Type = "points.minted"
	future := ev[1]
	future.Version = 2
	for name, stream := range map[string][]ports.Event{
		"gap":          gap,
		"bad payload":  {ev[0], bad},
		"unknown type": {ev[0], unknown},
		"future":       {ev[0], future},
		"other owner":  {ev[0], func() ports.Event { e := ev[1]; e.Account = "C/bob"; return e }()},
	} {
		if _, err := RehydrateAccount(alice, stream); err == nil {
			t.Errorf("%s: rehydrated without error", name)
		}
	}
	// A redemption larger than its lot is corruption, not a user error.
	over := ports.Event{ID: "x", Account: alice.String(), Seq: 3, Type: EventRedeemed, Version: 1,
		Data: json.RawMessage(`{"amount":50,"allocations":[{"lot":"2026-03-02","expires_on":"2026-03-04","amount":50}]}`)}
	if _, err := RehydrateAccount(alice, append(ev[:2:2], over)); !errors.Is(err, errCorrupt) {
		t.Errorf("overdrawn lot: err = %v, want errCorrupt", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		account string
		amount  int64
		want    error
	}{
		{"1234", 100, nil},
		{"derick", 1, nil},
		{"a.b_c@d:e-f", MaxAmount, nil},
		{strings.Repeat("x", 128), 1, nil},
		{"", 1, ErrInvalidAccount},
		{strings.Repeat("x", 129), 1, ErrInvalidAccount},
		{"has space", 1, ErrInvalidAccount},
		{"slash/", 1, ErrInvalidAccount},
		{"ünï", 1, ErrInvalidAccount},
		{"ok", 0, ErrInvalidAmount},
		{"ok", -5, ErrInvalidAmount},
		{"ok", MaxAmount + 1, ErrInvalidAmount},
	}
	for _, tt := range tests {
		id, err := NewAccountID("C", tt.account)
		if err == nil {
			err = validate(id, tt.amount)
		}
		if !errors.Is(err, tt.want) {
			t.Errorf("validate(%q, %d) = %v, want %v", tt.account, tt.amount, err, tt.want)
		}
	}
}

func TestAccountID(t *testing.T) {
	t.Parallel()
	a, err := NewAccountID("UnicornStore", "derick")
	if err != nil || a.Client() != "UnicornStore" || a.ID() != "derick" || a.String() != "UnicornStore/derick" {
		t.Fatalf("NewAccountID = %+v, %v", a, err)
	}
	if back, err := ParseAccountID(a.String()); err != nil || back != a {
		t.Errorf("ParseAccountID(%s) = %+v, %v", a, back, err)
	}
	// Two clients naming the same id name two accounts.
	if b := MustAccountID("Partner", "derick"); b == a || b.String() == a.String() {
		t.Errorf("%s and %s are one account", a, b)
	}
	for _, bad := range []struct{ client, id string }{{"", "x"}, {"a/b", "x"}, {"C", ""}, {"C", "a/b"}, {"C", strings.Repeat("x", 129)}} {
		if _, err := NewAccountID(bad.client, bad.id); err == nil {
			t.Errorf("NewAccountID(%q, %q) accepted", bad.client, bad.id)
		}
	}
	for _, bad := range []string{"derick", "/derick", "C/", "C/a/b"} {
		if _, err := ParseAccountID(bad); err == nil {
			t.Errorf("ParseAccountID(%q) accepted", bad)
		}
	}
}

func TestDay(t *testing.T) {
	d := DayOf(time.Date(2026, 12, 31, 23, 59, 59, 0, time.FixedZone("UTC-5", -5*3600)))
	if d.String() != "2027-01-01" {
		t.Errorf("DayOf in UTC-5 late evening = %s, want 2027-01-01 (UTC)", d)
	}
	if got := d.AddDays(365).String(); got != "2028-01-01" {
		t.Errorf("AddDays(365) = %s", got)
	}
	p, err := ParseDay("2028-02-29")
	if err != nil || p.AddDays(1).String() != "2028-03-01" {
		t.Errorf("ParseDay/AddDays across a leap day = %v, %v", p, err)
	}
	if _, err := ParseDay("2027-02-29"); err == nil {
		t.Error("ParseDay accepted 2027-02-29")
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	h := newHistory(t, 2)
	h.issue(dayN(0), 100)
	h.issue(dayN(1), 50)
	if _, err := h.redeem(dayN(1), 120); err != nil {
		t.Fatal(err)
	}
	snap, err := h.acct.snapshot(dayN(1))
	if err != nil {
		t.Fatal(err)
	}
	h.issue(dayN(2), 7)
	h.commit(dayN(2), h.acct.decideExpire(dayN(2))...)

	restored, ok := restoreAccount(snap)
	if !ok {
		t.Fatal("snapshot not restorable")
	}
	tail := h.all[snap.Version:]
	got, err := rehydrate(restored, tail)
	if err != nil {
		t.Fatal(err)
	}
	// A snapshot leaves out empty lots; every lot holding points is there.
	if diff := cmp.Diff(withPoints(h.acct.book.lots), withPoints(got.book.lots)); diff != "" {
		t.Errorf("snapshot + tail differs from the whole stream (-whole +snapshot):\n%s", diff)
	}
	for d := range 5 {
		if a, b := h.acct.Available(dayN(d)), got.Available(dayN(d)); a != b {
			t.Errorf("day %d: available %d from the whole stream, %d from the snapshot", d, a, b)
		}
	}
	if diff := cmp.Diff(h.acct.earned, got.earned); diff != "" || got.tier != h.acct.tier {
		t.Errorf("earned and tier from the snapshot differ (-whole +snapshot):\n%s%q %q", diff, h.acct.tier, got.tier)
	}
	if got.Version() != h.acct.Version() || got.snapshotAt != snap.Version {
		t.Errorf("versions: %d/%d, want %d/%d", got.Version(), got.snapshotAt, h.acct.Version(), snap.Version)
	}
	for name, bad := range map[string]ports.Snapshot{
		"not JSON":       {Account: alice.String(), Version: 3, State: json.RawMessage(`{`)},
		"another format": {Account: alice.String(), Version: 3, State: json.RawMessage(`{"format":3,"lots":[]}`)},
		// Format 1 kept no tier nor what was earned: the stream is read
		// from its start instead.
		"format 1":   {Account: alice.String(), Version: 3, State: json.RawMessage(`{"format":1,"lots":[]}`)},
		"no version": {Account: alice.String(), Version: 0, State: snap.State},
		"no client":  {Account: "alice", Version: 3, State: snap.State},
	} {
		if _, ok := restoreAccount(bad); ok {
			t.Errorf("%s: restored", name)
		}
	}
}

// Once its snapshot is stored, an account kept between commands is what
// loading that snapshot gives, and the events after it apply to both alike:
// its state does not grow with its history.
func TestSnapshotStoredIsTheRestoredState(t *testing.T) {
	h := newHistory(t, 2)
	for d := range 3 {
		for range 50 {
			h.issue(dayN(d), 10)
		}
		if _, err := h.redeem(dayN(d), 120); err != nil {
			t.Fatal(err)
		}
	}
	h.commit(dayN(3), h.acct.decideExpire(dayN(3))...)
	snap, err := h.acct.snapshot(dayN(3))
	if err != nil {
		t.Fatal(err)
	}
	h.acct.snapshotStored()
	restored, ok := restoreAccount(snap)
	if !ok {
		t.Fatal("snapshot not restorable")
	}
	h.issue(dayN(3), 7)
	if _, err := h.redeem(dayN(3), 30); err != nil {
		t.Fatal(err)
	}
	restored, err = rehydrate(restored, h.all[snap.Version:])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(restored, h.acct, cmp.AllowUnexported(Account{}, lotBook{}), cmp.Comparer(func(a, b AccountID) bool { return a == b })); diff != "" {
		t.Errorf("kept state differs from the restored one (-restored +kept):\n%s", diff)
	}
}

func withPoints(lots []ports.Lot) []ports.Lot {
	var out []ports.Lot
	for _, l := range lots {
		if l.Remaining > 0 {
			out = append(out, l)
		}
	}
	return out
}
