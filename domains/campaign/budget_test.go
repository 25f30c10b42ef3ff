package campaign

import "testing"

// TestBudgetGrant: a budget gives what is asked while it lasts, then what
// is left, then nothing; never a negative grant.
func TestBudgetGrant(t *testing.T) {
	tests := []struct {
		name                string
		size, awarded, want int64
		granted             int64
	}{
		{"plenty left", 100, 0, 60, 60},
		{"exactly what is left", 100, 40, 60, 60},
		{"less left than asked", 100, 60, 60, 40},
		{"spent", 100, 100, 10, 0},
		{"overspent after the size was lowered", 50, 100, 10, 0},
		{"nothing asked", 100, 0, 0, 0},
	}
	for _, tt := range tests {
		if got := (budget{size: tt.size, awarded: tt.awarded}).grant(tt.want); got != tt.granted {
			t.Errorf("%s: budget %d with %d awarded grants %d of %d, want %d", tt.name, tt.size, tt.awarded, got, tt.want, tt.granted)
		}
	}
}
