package points

import (
	"fmt"
	"regexp"
	"time"
)

// MaxAmount bounds one command's points, so that a typo cannot mint a fortune
// and sums stay far from int64 overflow.
const MaxAmount = 1_000_000_000

var accountPattern = regexp.MustCompile(`^[A-Za-z0-9._@:-]{1,128}$`)

// ValidateAccount checks an account id.
func ValidateAccount(id string) error {
	if !accountPattern.MatchString(id) {
		return ErrInvalidAccount
	}
	return nil
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
