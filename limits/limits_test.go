package limits

import (
	"strings"
	"testing"
)

func TestDecimal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		want string // "" when refused
	}{
		{"1700", "1700"},
		{"1700.50", "1700.5"},
		{"-3", "-3"},
		{"1e3", "1000"},
		{"1E40", "1e40"},
		{"1e-40", "1e-40"},
		{"1e41", ""},
		{"1e-41", ""},
		{"1e10000000", ""},
		{"1e-999999999", ""},
		{strings.Repeat("9", 40), strings.Repeat("9", 40)},
		{strings.Repeat("9", 41), ""},
		{"0." + strings.Repeat("0", 39) + "1", "1e-40"},
		{strings.Repeat("1", 1<<20), ""},
		{"", ""},
		{"abc", ""},
		{"0x10", ""},
		{"1_000", ""},
	}
	for _, tt := range tests {
		d, ok := Decimal(tt.text)
		short := tt.text
		if len(short) > 50 {
			short = short[:50] + "..."
		}
		if ok != (tt.want != "") {
			t.Errorf("Decimal(%s) ok = %v, want %v", short, ok, tt.want != "")
			continue
		}
		if ok {
			want, _ := Decimal(tt.want)
			if !d.Equal(want) && d.String() != tt.want {
				t.Errorf("Decimal(%s) = %s, want %s", short, d, tt.want)
			}
		}
	}
}

func TestID(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]bool{
		"derick": true, "a.b_c@d:e-f": true, strings.Repeat("x", IDChars): true,
		"": false, strings.Repeat("x", IDChars+1): false, "a b": false, "a/b": false, "ü": false,
	} {
		if got := ID.MatchString(id); got != want {
			t.Errorf("ID(%q) = %v, want %v", id, got, want)
		}
	}
}
