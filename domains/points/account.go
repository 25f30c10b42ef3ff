package points

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/unicornstore/unicorn/ports"
)

// Account is the command side of one points account: its lots and what a
// reversal needs to know, rebuilt from the account's own event stream. It is
// never read from the read model.
type Account struct {
	id      AccountID
	version int64 // Seq of the last event applied
	book    lotBook
	// snapshotVersion is the version of the snapshot the account was
	// restored from (0: built from the first event). Reversals need the
	// whole stream, so they never use a snapshot.
	snapshotVersion int64
	// snapshotAt is the version of the latest snapshot restored or taken:
	// a new one is due snapshotEvery events later.
	snapshotAt int64
	// issues and redemptions, by event id, for reversals.
	issues      map[string]*issueRecord
	redemptions map[string]*redemptionRecord
	others      map[string]bool // ids of events that cannot be reversed
}

type issueRecord struct {
	lot, expiresOn string
	amount         int64
	reversed       bool
}

type redemptionRecord struct {
	allocations []Allocation
	amount      int64
	reversed    bool
}

// RehydrateAccount rebuilds an account from its stream, which must start at
// Seq 1 and have no gaps.
func RehydrateAccount(id AccountID, events []ports.Event) (*Account, error) {
	return rehydrate(newAccount(id), events)
}

func newAccount(id AccountID) *Account {
	return &Account{id: id, issues: map[string]*issueRecord{}, redemptions: map[string]*redemptionRecord{}, others: map[string]bool{}}
}

func rehydrate(a *Account, events []ports.Event) (*Account, error) {
	for _, ev := range events {
		if err := a.apply(ev); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// snapshotState is what a snapshot keeps: the lots are all that issuing,
// redeeming and expiring decide from.
type snapshotState struct {
	Format int         `json:"format"`
	Lots   []ports.Lot `json:"lots"`
}

const snapshotFormat = 1

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
	a.version, a.snapshotVersion, a.snapshotAt, a.book.lots = snap.Version, snap.Version, snap.Version, st.Lots
	return a, true
}

// snapshot encodes the account's state at its version.
func (a *Account) snapshot(now time.Time) (ports.Snapshot, error) {
	// Only lots with points, so that an old account's snapshot stays small.
	lots := a.book.held()
	state, err := json.Marshal(snapshotState{Format: snapshotFormat, Lots: lots})
	if err != nil {
		return ports.Snapshot{}, fmt.Errorf("encode snapshot of %s: %w", a.id, err)
	}
	return ports.Snapshot{Account: a.id.String(), Version: a.version, State: state, TakenAt: now}, nil
}

// snapshotStored makes the account what loading it from the snapshot just
// stored at its version gives: its lots with points, and no reversal
// records. A cached account's memory is so bounded by the events since its
// last snapshot, not by its whole history (an account issued to every
// second would otherwise grow without end); a reversal loads the whole
// stream anyway, as for any account restored from a snapshot.
func (a *Account) snapshotStored() {
	a.snapshotAt, a.snapshotVersion = a.version, a.version
	a.book.lots = a.book.held()
	a.issues, a.redemptions, a.others = map[string]*issueRecord{}, map[string]*redemptionRecord{}, map[string]bool{}
}

// Version is the Seq of the last event the account was built from.
func (a *Account) Version() int64 { return a.version }

// Available is what the account can spend on the day of now.
func (a *Account) Available(now time.Time) int64 { return a.book.available(DayOf(now).String()) }

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
	switch e := c.(type) {
	case Issued:
		a.issues[ev.ID] = &issueRecord{lot: e.Lot, expiresOn: e.ExpiresOn, amount: e.Amount}
	case Redeemed:
		a.redemptions[ev.ID] = &redemptionRecord{allocations: e.Allocations, amount: e.Amount}
	case IssueReversed:
		if r := a.issues[e.IssueID]; r != nil {
			r.reversed = true
		}
		a.others[ev.ID] = true
	case RedemptionReversed:
		if r := a.redemptions[e.RedemptionID]; r != nil {
			r.reversed = true
		}
		a.others[ev.ID] = true
	default:
		a.others[ev.ID] = true
	}
	a.version = ev.Seq
	return nil
}

// The decisions below only compute the changes a command makes; Service
// appends them. None of them modifies the account.

func (a *Account) decideIssue(amount int64, now time.Time, ttlDays int, reference string, details []byte) Issued {
	today := DayOf(now)
	expires := today.AddDays(ttlDays).String()
	// A lot keeps the expiry it was opened with, even if the TTL setting
	// changed later that day: one lot, one expiry.
	if i := a.book.find(today.String()); i >= 0 {
		expires = a.book.lots[i].ExpiresOn
	}
	return Issued{Amount: amount, Lot: today.String(), ExpiresOn: expires, Reference: reference, Details: details}
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

func (a *Account) decideReverse(transactionID string, now time.Time) (change, error) {
	if r, ok := a.issues[transactionID]; ok {
		if r.reversed {
			return nil, ErrAlreadyReversed
		}
		return a.reverseIssue(transactionID, r, DayOf(now).String()), nil
	}
	if r, ok := a.redemptions[transactionID]; ok {
		if r.reversed {
			return nil, ErrAlreadyReversed
		}
		return RedemptionReversed{RedemptionID: transactionID, Amount: r.amount, Allocations: r.allocations}, nil
	}
	if a.others[transactionID] {
		return nil, ErrNotReversible
	}
	return nil, ErrTransactionNotFound
}

// reverseIssue takes an issue back: from its own lot first (whatever is
// left there, even past expiry), then from the oldest other active lots. What
// the account no longer has is recorded as unrecovered, never overdrawn.
func (a *Account) reverseIssue(id string, r *issueRecord, today string) IssueReversed {
	rev := IssueReversed{IssueID: id}
	need := r.amount
	if i := a.book.find(r.lot); i >= 0 && a.book.lots[i].Remaining > 0 {
		take := min(need, a.book.lots[i].Remaining)
		rev.Allocations = append(rev.Allocations, Allocation{Lot: r.lot, ExpiresOn: a.book.lots[i].ExpiresOn, Amount: take})
		need -= take
	}
	rest := a.book.allocate(need, today, r.lot)
	for _, al := range rest {
		need -= al.Amount
	}
	rev.Allocations = append(rev.Allocations, rest...)
	rev.Amount = r.amount - need
	rev.Unrecovered = need
	return rev
}
