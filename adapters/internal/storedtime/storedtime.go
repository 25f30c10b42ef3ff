// Package storedtime is how the storage adapters write times: fixed-width
// UTC text with nanoseconds, which sorts as text, round-trips exactly, and
// stays readable to an operator looking at the tables.
package storedtime

import (
	"fmt"
	"time"
)

const layout = "2006-01-02T15:04:05.000000000Z"

// Format writes t in UTC.
func Format(t time.Time) string { return t.UTC().Format(layout) }

// Parse reads a time written by Format.
func Parse(s string) (time.Time, error) {
	t, err := time.Parse(layout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse stored time %q: %w", s, err)
	}
	return t, nil
}
