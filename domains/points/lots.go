package points

import (
	"fmt"
	"slices"
	"time"

	"github.com/unicornstore/unicorn/ports"
)

// lotBook is an account's lots, ordered by issue day. Its methods are the
// only code that moves points in or out of a lot.
type lotBook struct{ lots []ports.Lot }

// errCorrupt means events disagree with each other (a redemption takes more
// than a lot holds): the stream is damaged, never a user error.
var errCorrupt = fmt.Errorf("points stream is inconsistent")

func (b *lotBook) find(day string) int {
	i, ok := slices.BinarySearchFunc(b.lots, day, func(l ports.Lot, d string) int {
		switch {
		case l.IssuedOn < d:
			return -1
		case l.IssuedOn > d:
			return 1
		}
		return 0
	})
	if !ok {
		return -1 - i
	}
	return i
}

// lot returns the lot of day, creating it (with expiresOn) when it is new.
func (b *lotBook) lot(day, expiresOn string) *ports.Lot {
	i := b.find(day)
	if i < 0 {
		i = -1 - i
		b.lots = slices.Insert(b.lots, i, ports.Lot{IssuedOn: day, ExpiresOn: expiresOn})
	}
	return &b.lots[i]
}

func (b *lotBook) issue(day, expiresOn string, n int64, at time.Time) {
	l := b.lot(day, expiresOn)
	l.Issued += n
	l.Remaining += n
	l.LastUpdated = at
}

// issuePending puts n points in the lot of day as pending until maturesOn
// (a lot keeps the maturity it was first given, as it keeps its expiry).
func (b *lotBook) issuePending(day, expiresOn, maturesOn string, n int64, at time.Time) {
	l := b.lot(day, expiresOn)
	l.Issued += n
	l.Pending += n
	if l.MaturesOn == "" || l.Pending == n {
		l.MaturesOn = maturesOn
	}
	l.LastUpdated = at
}

// mature makes n of the lot's pending points spendable.
func (b *lotBook) mature(day string, n int64, at time.Time) error {
	i := b.find(day)
	if i < 0 || b.lots[i].Pending < n {
		return fmt.Errorf("mature %d points of lot %s: %w", n, day, errCorrupt)
	}
	l := &b.lots[i]
	l.Pending -= n
	l.Remaining += n
	if l.Pending == 0 {
		l.MaturesOn = ""
	}
	l.LastUpdated = at
	return nil
}

// cancelPending takes n of the lot's pending points away (a return of the
// purchase that earned them).
func (b *lotBook) cancelPending(day string, n int64, at time.Time) error {
	i := b.find(day)
	if i < 0 || b.lots[i].Pending < n {
		return fmt.Errorf("cancel %d pending points of lot %s: %w", n, day, errCorrupt)
	}
	l := &b.lots[i]
	l.Pending -= n
	if l.Pending == 0 {
		l.MaturesOn = ""
	}
	l.LastUpdated = at
	return nil
}

// pending is the sum of the lots' pending points.
func (b *lotBook) pending() int64 {
	var sum int64
	for _, l := range b.lots {
		sum += l.Pending
	}
	return sum
}

// maturing lists the lots whose pending points are due to mature today.
func (b *lotBook) maturing(today string) []ports.Lot {
	var out []ports.Lot
	for _, l := range b.lots {
		if l.Pending > 0 && l.MaturesOn <= today {
			out = append(out, l)
		}
	}
	return out
}

func (b *lotBook) restore(day, expiresOn string, n int64, at time.Time) {
	l := b.lot(day, expiresOn)
	l.Remaining += n
	l.LastUpdated = at
}

func (b *lotBook) take(day string, n int64, at time.Time) error {
	i := b.find(day)
	if i < 0 || b.lots[i].Remaining < n {
		return fmt.Errorf("take %d points from lot %s: %w", n, day, errCorrupt)
	}
	b.lots[i].Remaining -= n
	b.lots[i].LastUpdated = at
	return nil
}

func (b *lotBook) takeAll(allocs []Allocation, at time.Time) error {
	for _, a := range allocs {
		if err := b.take(a.Lot, a.Amount, at); err != nil {
			return err
		}
	}
	return nil
}

func (b *lotBook) expire(day string, n int64, at time.Time) error {
	if err := b.take(day, n, at); err != nil {
		return err
	}
	b.lots[b.find(day)].Expired += n
	return nil
}

// active reports whether a lot can still be spent on day today.
func active(l ports.Lot, today string) bool { return today < l.ExpiresOn }

// available is what can be spent today: the points of active lots.
// held returns the lots with points left, in order. Empty lots decide
// nothing (a lot a reversal restores into is made again from the
// allocation), so a snapshot and a cached state keep only these.
func (b *lotBook) held() []ports.Lot {
	var out []ports.Lot
	for _, l := range b.lots {
		if l.Remaining > 0 || l.Pending > 0 {
			out = append(out, l)
		}
	}
	return out
}

func (b *lotBook) available(today string) int64 {
	var sum int64
	for _, l := range b.lots {
		if active(l, today) {
			sum += l.Remaining
		}
	}
	return sum
}

// allocate picks n points from the oldest active lots first, skipping the lot
// named by skip (""), without changing the book.
func (b *lotBook) allocate(n int64, today, skip string) []Allocation {
	var out []Allocation
	for _, l := range b.lots {
		if n == 0 {
			break
		}
		if !active(l, today) || l.Remaining == 0 || l.IssuedOn == skip {
			continue
		}
		take := min(n, l.Remaining)
		out = append(out, Allocation{Lot: l.IssuedOn, ExpiresOn: l.ExpiresOn, Amount: take})
		n -= take
	}
	return out
}

// due lists the lots past their expiry that still hold points.
func (b *lotBook) due(today string) []ports.Lot {
	var out []ports.Lot
	for _, l := range b.lots {
		if !active(l, today) && l.Remaining > 0 {
			out = append(out, l)
		}
	}
	return out
}

// nextDue is the earliest day something is due: the expiry of a lot that
// still holds points, or the maturity of a lot's pending points.
func (b *lotBook) nextDue() string {
	next := ""
	for _, l := range b.lots {
		if l.Remaining > 0 && (next == "" || l.ExpiresOn < next) {
			next = l.ExpiresOn
		}
		if l.Pending > 0 && (next == "" || l.MaturesOn < next) {
			next = l.MaturesOn
		}
	}
	return next
}

// total is the sum of every lot's points, remaining (expired or not) and
// pending: the signed sum of the ledger.
func (b *lotBook) total() int64 {
	var sum int64
	for _, l := range b.lots {
		sum += l.Remaining + l.Pending
	}
	return sum
}
