package points

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/unicornstore/unicorn/ports"
)

// Account is the command side of one points account: its lots, rebuilt
// from the account's own event stream (from its latest snapshot on). It is
// never read from the read model. What a reversal needs of an older
// transaction is read from the stream when one is asked for (reversalScan),
// so an account's state does not grow with its history.
type Account struct {
	id      AccountID
	version int64 // Seq of the last event applied
	book    lotBook
	// snapshotAt is the version of the latest snapshot restored or taken:
	// a new one is due snapshotEvery events later.
	snapshotAt int64
	// tier is the member's tier as last recorded ("" for none), and
	// earned the points issued per issue day, net of issue reversals, over
	// the last earnedDays days: what a tier is decided from.
	tier   string
	earned map[string]int64
}

// earnedDays is how far back an account keeps what it earned: the longest
// tier window, and a day.
const earnedDays = MaxTierWindowDays + 1

// MaxTierWindowDays is the longest window tiers may be decided on.
const MaxTierWindowDays = 730

// RehydrateAccount rebuilds an account from its stream, which must start at
// Seq 1 and have no gaps.
func RehydrateAccount(id AccountID, events []ports.Event) (*Account, error) {
	return rehydrate(newAccount(id), events)
}

func newAccount(id AccountID) *Account { return &Account{id: id} }

func rehydrate(a *Account, events []ports.Event) (*Account, error) {
	for _, ev := range events {
		if err := a.apply(ev); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// snapshotState is what a snapshot keeps: the lots are all that issuing,
// redeeming and expiring decide from; the tier and what was earned are
// what a tier review decides from.
type snapshotState struct {
	Format int              `json:"format"`
	Lots   []ports.Lot      `json:"lots"`
	Tier   string           `json:"tier,omitempty"`
	Earned map[string]int64 `json:"earned,omitempty"`
}

// snapshotFormat 2 added the tier and what was earned; a snapshot of
// format 1 is not used (the stream is read from its start once, until the
// next snapshot).
const snapshotFormat = 2

// restoreAccount starts an account from a snapshot; ok is false when the
// snapshot cannot be used (another format, or damaged) and the stream must
// be read from the start.
func restoreAccount(snap ports.Snapshot) (a *Account, ok bool) {
	var st snapshotState
	if err := json.Unmarshal(snap.State, &st); err != nil || st.Format != snapshotFormat || snap.Version < 1 {
		return nil, false
	}
	id, err := ParseAccountID(snap.Account)
	if err != nil {
		return nil, false
	}
	a = newAccount(id)
	a.version, a.snapshotAt, a.book.lots, a.tier, a.earned = snap.Version, snap.Version, st.Lots, st.Tier, st.Earned
	return a, true
}

// snapshot encodes the account's state at its version.
func (a *Account) snapshot(now time.Time) (ports.Snapshot, error) {
	// Only lots with points, so that an old account's snapshot stays small.
	lots := a.book.held()
	state, err := json.Marshal(snapshotState{Format: snapshotFormat, Lots: lots, Tier: a.tier, Earned: a.earned})
	if err != nil {
		return ports.Snapshot{}, fmt.Errorf("encode snapshot of %s: %w", a.id, err)
	}
	return ports.Snapshot{Account: a.id.String(), Version: a.version, State: state, TakenAt: now}, nil
}

// snapshotStored makes the account what loading the snapshot just stored
// at its version gives: only its lots with points.
func (a *Account) snapshotStored() {
	a.snapshotAt = a.version
	a.book.lots = a.book.held()
}

// Version is the Seq of the last event the account was built from.
func (a *Account) Version() int64 { return a.version }

// Available is what the account can spend on the day of now.
func (a *Account) Available(now time.Time) int64 { return a.book.available(DayOf(now).String()) }

// Pending is what the account holds but cannot spend yet.
func (a *Account) Pending() int64 { return a.book.pending() }

// Lots returns a copy of the account's lots.
func (a *Account) Lots() []ports.Lot { return append([]ports.Lot(nil), a.book.lots...) }

func (a *Account) apply(ev ports.Event) error {
	if ev.Account != a.id.String() || ev.Seq != a.version+1 {
		return fmt.Errorf("apply event %s seq %d to account %s at version %d: %w", ev.Account, ev.Seq, a.id, a.version, errCorrupt)
	}
	c, err := decode(ev)
	if err != nil {
		return err
	}
	if err := c.applyTo(&a.book, ev.RecordedAt); err != nil {
		return fmt.Errorf("apply event %s seq %d: %w", ev.Account, ev.Seq, err)
	}
	today := DayOf(ev.RecordedAt)
	switch e := c.(type) {
	case Issued:
		a.earn(e.Lot, e.Amount, today)
	case IssueReversed:
		a.earn(cmp.Or(e.Lot, today.String()), -(e.Amount + e.Unrecovered), today)
	case TierChanged:
		a.tier = e.To
	}
	a.version = ev.Seq
	return nil
}

// earn records n points earned (or, negative, taken back) on day, and
// forgets the days that fell out of what a tier window can reach, as of
// today.
func (a *Account) earn(day string, n int64, today Day) {
	if a.earned == nil {
		a.earned = map[string]int64{}
	}
	a.earned[day] += n
	oldest := today.AddDays(-earnedDays).String()
	for d := range a.earned {
		if d < oldest || a.earned[d] == 0 {
			delete(a.earned, d)
		}
	}
}

// Earned is what the account earned in the windowDays days up to the day
// of now (today included).
func (a *Account) Earned(now time.Time, windowDays int) int64 {
	from := DayOf(now).AddDays(-windowDays).String()
	var sum int64
	for d, n := range a.earned {
		if d > from {
			sum += n
		}
	}
	return max(sum, 0)
}

// Tier is the member's tier as last recorded ("" for none).
func (a *Account) Tier() string { return a.tier }

// TierPolicy decides a member's tier from what they earned in a window:
// the client's tiers.
type TierPolicy interface {
	WindowDays() int
	// Tier names the tier of a member who earned that much, and says why.
	Tier(earned int64) (name, reason string)
}

// decideTier records a move to the tier the policy gives for what the
// account earned in its window, if that is not the tier it has.
func (a *Account) decideTier(now time.Time, p TierPolicy) []change {
	window := min(max(p.WindowDays(), 1), MaxTierWindowDays)
	earned := a.Earned(now, window)
	to, reason := p.Tier(earned)
	if to == a.tier {
		return nil
	}
	return []change{TierChanged{From: a.tier, To: to, Earned: earned, WindowDays: window, Reason: reason}}
}

// The decisions below only compute the changes a command makes; Service
// appends them. None of them modifies the account.

func (a *Account) decideIssue(amount int64, now time.Time, ttlDays, pendingDays int, reference string, details []byte) Issued {
	today := DayOf(now)
	expires := today.AddDays(ttlDays).String()
	// A lot keeps the expiry it was opened with, even if the TTL setting
	// changed later that day: one lot, one expiry.
	if i := a.book.find(today.String()); i >= 0 {
		expires = a.book.lots[i].ExpiresOn
	}
	iss := Issued{Amount: amount, Lot: today.String(), ExpiresOn: expires, Reference: reference, Details: details}
	if pendingDays > 0 {
		iss.MaturesOn = today.AddDays(pendingDays).String()
		// Likewise one maturity per lot: the pending points of a day
		// mature together.
		if i := a.book.find(today.String()); i >= 0 && a.book.lots[i].Pending > 0 {
			iss.MaturesOn = a.book.lots[i].MaturesOn
		}
	}
	return iss
}

// decideMature makes spendable the pending points of every lot whose
// maturity has come: one event per lot.
func (a *Account) decideMature(now time.Time) []change {
	var out []change
	for _, l := range a.book.maturing(DayOf(now).String()) {
		out = append(out, Matured{Lot: l.IssuedOn, ExpiresOn: l.ExpiresOn, Amount: l.Pending})
	}
	return out
}

func (a *Account) decideRedeem(amount int64, now time.Time, reference string) (Redeemed, error) {
	today := DayOf(now).String()
	if avail := a.book.available(today); avail < amount {
		return Redeemed{}, &InsufficientPointsError{Requested: amount, Available: avail}
	}
	return Redeemed{Amount: amount, Allocations: a.book.allocate(amount, today, ""), Reference: reference}, nil
}

func (a *Account) decideExpire(now time.Time) []change {
	var out []change
	for _, l := range a.book.due(DayOf(now).String()) {
		out = append(out, Expired{Lot: l.IssuedOn, ExpiresOn: l.ExpiresOn, Amount: l.Remaining})
	}
	return out
}

// decideReverse takes back amount points of the transaction t (found in
// the account's stream up to its version), or all that earlier reversals
// left of it when amount is 0. A partial reversal serves a return of part
// of an order; a transaction with nothing left to take back is
// ErrAlreadyReversed.
func (a *Account) decideReverse(t reversalTarget, amount int64, now time.Time) (change, error) {
	var original int64
	switch c := t.change.(type) {
	case Issued:
		original = c.Amount
	case Redeemed:
		original = c.Amount
	default:
		return nil, ErrNotReversible
	}
	left := original - t.reversed
	switch {
	case left <= 0:
		return nil, ErrAlreadyReversed
	case amount == 0:
		amount = left
	case amount < 0 || amount > left:
		return nil, &ReversalTooLargeError{Requested: amount, Left: left}
	}
	switch c := t.change.(type) {
	case Issued:
		return a.reverseIssue(t.id, amount, c.Lot, c.MaturesOn != "", DayOf(now).String()), nil
	default:
		r := t.change.(Redeemed)
		return RedemptionReversed{RedemptionID: t.id, Amount: amount, Allocations: restorable(r.Allocations, t.restored, amount)}, nil
	}
}

// restorable picks amount points of a redemption's allocations to give
// back, each to the lot it came from, skipping what earlier partial
// reversals restored already. It starts from the redemption's last
// allocation, the lot that expires last, so that what comes back lasts.
func restorable(allocs []Allocation, restored map[string]int64, amount int64) []Allocation {
	done := maps.Clone(restored)
	// What was restored already is counted against the allocations in the
	// order they were restored: the last ones first, as below.
	var out []Allocation
	for i := len(allocs) - 1; i >= 0 && amount > 0; i-- {
		al := allocs[i]
		free := al.Amount
		if d := min(done[al.Lot], free); d > 0 {
			free, done[al.Lot] = free-d, done[al.Lot]-d
		}
		if free <= 0 {
			continue
		}
		take := min(free, amount)
		out = append(out, Allocation{Lot: al.Lot, ExpiresOn: al.ExpiresOn, Amount: take})
		amount -= take
	}
	return out
}

// reverseIssue takes need points of an issue back: from its own lot first
// (its pending points when the issue was pending, then whatever is left
// there, even past expiry), then from the oldest other active lots. What
// the account no longer has is recorded as unrecovered, never overdrawn.
func (a *Account) reverseIssue(id string, need int64, lot string, pending bool, today string) IssueReversed {
	rev := IssueReversed{IssueID: id}
	asked := need
	// A pending issue's points first: points a purchase earned are pending
	// through its return window, and a return within it cancels them
	// before they could be spent. An issue that was never pending (a
	// grant) takes none: the pending points beside it in its day's lot are
	// another purchase's.
	rev.Lot = lot
	if i := a.book.find(lot); pending && i >= 0 && a.book.lots[i].Pending > 0 {
		rev.Pending = min(need, a.book.lots[i].Pending)
		need -= rev.Pending
	}
	if i := a.book.find(lot); i >= 0 && a.book.lots[i].Remaining > 0 && need > 0 {
		take := min(need, a.book.lots[i].Remaining)
		rev.Allocations = append(rev.Allocations, Allocation{Lot: lot, ExpiresOn: a.book.lots[i].ExpiresOn, Amount: take})
		need -= take
	}
	rest := a.book.allocate(need, today, lot)
	for _, al := range rest {
		need -= al.Amount
	}
	rev.Allocations = append(rev.Allocations, rest...)
	rev.Amount = asked - need
	rev.Unrecovered = need
	return rev
}

// reversalTarget is a transaction a reversal is asked to take back, as the
// account's stream holds it: its change, and whether a reversal of it
// follows.
type reversalTarget struct {
	id     string
	change change
	// reversed is how much of it reversals took back already (for an
	// issue, what they asked: recovered and unrecovered), and restored
	// what they gave back to each lot (a redemption's).
	reversed int64
	restored map[string]int64
}

// reversalScan looks for a transaction in an account's events read newest
// first, from the version the account was loaded at down: a reversal of it
// can only come after it, so by the time the scan meets the transaction it
// knows how much of it was reversed. A reversal usually takes back
// something recent (a saga's compensation, seconds later), so the scan
// reads a few events, where rebuilding the account from its first event
// would read its whole history.
type reversalScan struct {
	id       string
	reversed int64
	restored map[string]int64
	found    *reversalTarget
}

// read scans a page of events, newest first; done is true once the
// transaction is found.
func (s *reversalScan) read(events []ports.Event) (done bool, err error) {
	for _, ev := range events {
		c, err := decode(ev)
		if err != nil {
			return false, err
		}
		if ev.ID == s.id {
			s.found = &reversalTarget{id: s.id, change: c, reversed: s.reversed, restored: s.restored}
			return true, nil
		}
		switch e := c.(type) {
		case IssueReversed:
			if e.IssueID == s.id {
				s.reversed += e.Amount + e.Unrecovered
			}
		case RedemptionReversed:
			if e.RedemptionID == s.id {
				s.reversed += e.Amount
				if s.restored == nil {
					s.restored = map[string]int64{}
				}
				for _, al := range e.Allocations {
					s.restored[al.Lot] += al.Amount
				}
			}
		}
	}
	return false, nil
}
