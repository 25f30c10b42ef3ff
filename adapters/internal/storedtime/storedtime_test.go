package storedtime

import (
	"testing"
	"time"
)

func TestRoundTripAndOrder(t *testing.T) {
	a := time.Date(2026, 11, 21, 9, 5, 3, 7, time.FixedZone("CET", 3600))
	b := a.Add(time.Nanosecond)
	got, err := Parse(Format(a))
	if err != nil || !got.Equal(a) {
		t.Errorf("round trip: %v, %v; want %v", got, err, a)
	}
	if !(Format(a) < Format(b)) {
		t.Errorf("%s does not sort before %s", Format(a), Format(b))
	}
	if _, err := Parse("yesterday"); err == nil {
		t.Error("parsed nonsense")
	}
}
