package limits

import (
	"math/big"
	"regexp"
	"strings"
	"testing"
)

// jsonNumber is a number as JSON writes it, in parts: sign and integer,
// fraction, exponent.
var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$`)

// shape is a number's significant digits (leading and trailing zeros
// dropped: 0 for zero) and the exponent of its last one, read from its
// JSON text without the decimal library. A zero is taken when its
// exponent, as written and as of its last digit, is one a decimal holds
// (an int32).
func shape(text string) (digits int, exponent *big.Int, ok bool) {
	m := jsonNumber.FindStringSubmatch(text)
	if m == nil {
		return 0, nil, false
	}
	exponent = big.NewInt(0)
	if m[3] != "" {
		exponent.SetString(strings.TrimPrefix(m[3], "+"), 10)
	}
	written := exponent.IsInt64() && int64(int32(exponent.Int64())) == exponent.Int64()
	exponent.Sub(exponent, big.NewInt(int64(len(m[2]))))
	if zero := strings.Trim(m[1]+m[2], "0") == ""; zero {
		held := exponent.IsInt64() && int64(int32(exponent.Int64())) == exponent.Int64()
		if !written || !held {
			return -1, exponent, true
		}
	}
	coef := strings.TrimLeft(m[1]+m[2], "0")
	trimmed := strings.TrimRight(coef, "0")
	exponent.Add(exponent, big.NewInt(int64(len(coef)-len(trimmed))))
	return len(trimmed), exponent, true
}

// FuzzDecimal: Decimal never panics; it accepts a JSON number exactly when
// its text is at most NumberChars long and its value has at most
// NumberDigits significant digits, none beyond 10^±NumberExponent, and
// gives the value the text says; what it accepts, written back, it
// accepts again as the same value.
func FuzzDecimal(f *testing.F) {
	for _, s := range []string{"1700", "1700.50", "-3", "1e3", "1E40", "1e-40", "1e41", "1e-41", "10e40", "1.0e-40", "12e39", "-0", "0e50", "0e-50",
		"1234567890123456789012345678901234567890e40", "0.1234567890123456789012345678901234567890", strings.Repeat("9", 40), strings.Repeat("9", 41),
		"0." + strings.Repeat("0", 39) + "1", "1e10000000", "1e-999999999", "1e2147483648", "", "abc", "0x10", "1_000", "+5", ".5", "5.", "1e", "--1",
		"-", "1.2.3", "1e+5", "00012", "1E-0", "9223372036854775808", "-9223372036854775809", "1." + strings.Repeat("0", 60),
		"0e2200000000", "0.0e-2147483648", "0e-2147483648"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		d, ok := Decimal(text)
		if digits, exponent, isJSON := shape(text); isJSON {
			want := len(text) <= NumberChars && digits >= 0 && (digits == 0 || digits <= NumberDigits &&
				exponent.Cmp(big.NewInt(-NumberExponent)) >= 0 &&
				new(big.Int).Add(exponent, big.NewInt(int64(digits-1))).Cmp(big.NewInt(NumberExponent)) <= 0)
			if ok != want {
				t.Fatalf("Decimal(%q) ok = %v, want %v (%d digits, last at 10^%s)", text, ok, want, digits, exponent)
			}
			if ok {
				r, _ := new(big.Rat).SetString(text)
				if d.Rat().Cmp(r) != 0 {
					t.Fatalf("Decimal(%q) = %s, want %s", text, d, r.FloatString(45))
				}
			}
		}
		if !ok {
			return
		}
		if len(text) > NumberChars {
			t.Fatalf("Decimal accepted %d characters", len(text))
		}
		digits := len(d.Coefficient().String())
		if d.Sign() < 0 {
			digits--
		}
		if exp := int(d.Exponent()); digits > NumberDigits || exp < -NumberExponent || exp+digits-1 > NumberExponent {
			t.Fatalf("Decimal(%q) = %s: %d digits, exponent %d", text, d, digits, exp)
		}
		back, ok := Decimal(d.String())
		if !ok || !back.Equal(d) {
			t.Fatalf("Decimal(%q) = %s, which reads back as %s (ok %v)", text, d, back, ok)
		}
	})
}
