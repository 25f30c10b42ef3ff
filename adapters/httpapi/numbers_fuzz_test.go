package httpapi

import (
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/limits"
)

// FuzzNumberFields: the number fields of request bodies (whole numbers:
// amounts of points, stock, quantities; money: prices, deposits) read any
// JSON value without a panic, as a 400 naming the field or as exactly the
// value the JSON says; money written back as the API writes it reads back
// as the same amount.
func FuzzNumberFields(f *testing.F) {
	for _, s := range []string{"100", "100.0", "1e2", "100.5", `"100"`, "1e400", "-0", "0", "9223372036854775807", "9223372036854775808",
		"-9223372036854775808", "-9223372036854775809", "0e1000", "-0.0e-99999999999", "1e18", "1e19", "92233720368547758070e-1", "null", "true", "{}", "[]", " 7 ",
		"1700.50", "0.001", "1000000000", "1000000000.01", "-5", "1E+2", "1e-400", strings.Repeat("9", 70), "0." + strings.Repeat("0", 60) + "1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if !json.Valid([]byte(raw)) {
			return // fields are json.RawMessage: the decoder has checked them
		}
		// exact is the number's value, when raw is a number and its
		// exponent is small enough to compute it (1e999999999 is not).
		var exact *big.Rat
		var n json.Number
		if json.Unmarshal([]byte(raw), &n) == nil && n != "" && strings.TrimSpace(raw)[0] != '"' {
			mantissa, e, _ := strings.Cut(strings.ToLower(n.String()), "e")
			switch exp, err := strconv.Atoi(e); {
			case strings.Trim(mantissa, "-0.") == "":
				exact = new(big.Rat) // zero, whatever its exponent
			case e == "" || err == nil && exp > -1000 && exp < 1000:
				exact, _ = new(big.Rat).SetString(n.String())
			}
		}
		isNumber := exact != nil
		refused := func(what string, err error) {
			t.Helper()
			var re *requestError
			if !errors.As(err, &re) || re.kind.status != http.StatusBadRequest {
				t.Fatalf("%s(%s): %v (%T), want a 400", what, raw, err, err)
			}
		}

		i, err := wholeNumber("n", json.RawMessage(raw))
		switch {
		case err != nil:
			refused("wholeNumber", err)
			// Every whole number within int64 that Decimal reads is taken.
			if isNumber && exact.IsInt() && exact.Num().IsInt64() {
				if _, ok := limits.Decimal(n.String()); ok {
					t.Fatalf("wholeNumber(%s) refused a whole number: %v", raw, err)
				}
			}
		case !isNumber || !exact.IsInt() || exact.Num().Int64() != i || !exact.Num().IsInt64():
			t.Fatalf("wholeNumber(%s) = %d", raw, i)
		}

		d, err := money("m", json.RawMessage(raw))
		if err != nil {
			refused("money", err)
			return
		}
		if !isNumber || d.Rat().Cmp(exact) != 0 {
			t.Fatalf("money(%s) = %s", raw, d)
		}
		if d.Abs().GreaterThan(decimal.NewFromInt(limits.MaxMoney)) || !d.Equal(d.Round(limits.MoneyDecimals)) {
			t.Fatalf("money(%s) = %s, beyond what money may be", raw, d)
		}
		written, err := amount(d).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		back, err := money("m", written)
		if err != nil || !back.Equal(d) {
			t.Fatalf("money(%s) = %s, written %s, which reads back as %s (%v)", raw, d, written, back, err)
		}
	})
}
