package points

import (
	"fmt"
	"strings"
	"time"

	"github.com/unicornstore/unicorn/limits"
)

// MaxAmount bounds one command's points, so that a typo cannot mint a fortune
// and sums stay far from int64 overflow.
const MaxAmount = limits.MaxPoints

// ValidateAccount checks an account id as a client names it.
func ValidateAccount(id string) error {
	if !limits.ID.MatchString(id) {
		return ErrInvalidAccount
	}
	return nil
}

// AccountID names a points account: the client it belongs to and the id
// the client gave it. Account ids are the caller's to choose, so they are
// scoped by client: client A's "1234" and client B's "1234" are two
// accounts that never meet, and no client can learn which ids another
// uses. A customer's account is their username, in the store's client.
type AccountID struct{ client, id string }

// NewAccountID checks both names.
func NewAccountID(client, id string) (AccountID, error) {
	if !limits.ID.MatchString(client) {
		return AccountID{}, fmt.Errorf("client %q: %w", client, ErrInvalidClient)
	}
	if err := ValidateAccount(id); err != nil {
		return AccountID{}, err
	}
	return AccountID{client: client, id: id}, nil
}

// MustAccountID is NewAccountID for names known to be valid (tests,
// constants); it panics otherwise.
func MustAccountID(client, id string) AccountID {
	a, err := NewAccountID(client, id)
	if err != nil {
		panic(err)
	}
	return a
}

// Client is the client the account belongs to.
func (a AccountID) Client() string { return a.client }

// ID is the account's id within its client.
func (a AccountID) ID() string { return a.id }

// IsZero reports whether a is the zero AccountID (no account).
func (a AccountID) IsZero() bool { return a == AccountID{} }

// String is the account's stream name in the ledger, "client/id": "/"
// cannot appear in either name, so every account has one stream.
func (a AccountID) String() string { return a.client + "/" + a.id }

// ParseAccountID reads a stream name written by String.
func ParseAccountID(stream string) (AccountID, error) {
	client, id, ok := strings.Cut(stream, "/")
	if !ok {
		return AccountID{}, fmt.Errorf("stream %q names no client: %w", stream, ErrInvalidAccount)
	}
	return NewAccountID(client, id)
}

// ValidateAmount checks the points of one command.
func ValidateAmount(n int64) error {
	if n < 1 || n > MaxAmount {
		return ErrInvalidAmount
	}
	return nil
}

// Day is a calendar day in UTC, the unit of lots and expiry.
type Day struct{ t time.Time }

const dayLayout = "2006-01-02"

// DayOf returns the UTC day of t.
func DayOf(t time.Time) Day {
	y, m, d := t.UTC().Date()
	return Day{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// ParseDay reads a "2006-01-02" day.
func ParseDay(s string) (Day, error) {
	t, err := time.Parse(dayLayout, s)
	if err != nil {
		return Day{}, fmt.Errorf("parse day %q: %w", s, err)
	}
	return Day{t}, nil
}

// AddDays returns the day n days later (earlier for negative n).
func (d Day) AddDays(n int) Day { return Day{d.t.AddDate(0, 0, n)} }

func (d Day) String() string { return d.t.Format(dayLayout) }

// Time returns midnight UTC at the start of the day.
func (d Day) Time() time.Time { return d.t }
