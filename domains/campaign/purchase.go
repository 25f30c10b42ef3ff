package campaign

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"text/scanner"

	"github.com/shopspring/decimal"
)

// Purchase is the store's purchase event: what its campaigns are
// evaluated on. Rules may read any JSONPath (API clients send events of
// their own), but a path this event does not have is worth a warning: it is
// most often a typo ($.amont).
type Purchase struct {
	Client         string          `json:"client"`
	Username       string          `json:"username"`
	OrderID        string          `json:"order_id"`
	Amount         decimal.Decimal `json:"amount"` // the money charged
	Total          decimal.Decimal `json:"total"`  // the order's total, before points paid part of it
	PointsRedeemed int64           `json:"points_redeemed"`
	Quantity       int64           `json:"quantity"` // units of every line
	Items          []PurchaseItem  `json:"items"`
	Customer       Customer        `json:"customer"`
}

// Customer is who bought, as campaigns may read it: their membership tier
// and its multiplier ($.customer.tier_multiplier, 1 without tiers).
type Customer struct {
	Tier           string          `json:"tier"`
	TierMultiplier decimal.Decimal `json:"tier_multiplier"`
}

// PurchaseItem is one line of a purchase.
type PurchaseItem struct {
	ProductID string          `json:"product_id"`
	Name      string          `json:"name"`
	Quantity  int64           `json:"quantity"`
	Price     decimal.Decimal `json:"price"`  // of one unit
	Amount    decimal.Decimal `json:"amount"` // of the line
}

// Event returns the purchase as rules read it. Money is written as JSON
// numbers with its exact digits, whatever decimal's JSON setting.
func (p Purchase) Event() (Event, error) {
	items := make([]any, len(p.Items))
	for i, it := range p.Items {
		items[i] = map[string]any{"product_id": it.ProductID, "name": it.Name, "quantity": json.Number(strconv.FormatInt(it.Quantity, 10)),
			"price": money(it.Price), "amount": money(it.Amount)}
	}
	multiplier := p.Customer.TierMultiplier
	if multiplier.IsZero() && p.Customer.Tier == "" {
		multiplier = decimal.NewFromInt(1) // no tiers: campaigns that multiply by it give what they would without
	}
	return newEvent(map[string]any{
		"client": p.Client, "username": p.Username, "order_id": p.OrderID, "amount": money(p.Amount), "total": money(p.Total),
		"points_redeemed": json.Number(strconv.FormatInt(p.PointsRedeemed, 10)), "quantity": json.Number(strconv.FormatInt(p.Quantity, 10)),
		"items":    items,
		"customer": map[string]any{"tier": p.Customer.Tier, "tier_multiplier": money(multiplier)},
	})
}

func money(d decimal.Decimal) json.Number { return json.Number(d.String()) }

// schema is the shape of the purchase event: an object's fields (in
// order), or an array's element.
type schema struct {
	names  []string
	fields map[string]*schema
	elem   *schema
}

// purchaseSchema is derived from Purchase's JSON names.
var purchaseSchema = schemaOf(reflect.TypeFor[Purchase]())

func schemaOf(t reflect.Type) *schema {
	switch t.Kind() {
	case reflect.Slice:
		return &schema{elem: schemaOf(t.Elem())}
	case reflect.Struct:
		if t == reflect.TypeFor[decimal.Decimal]() {
			return &schema{}
		}
		s := &schema{fields: map[string]*schema{}}
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			s.names = append(s.names, name)
			s.fields[name] = schemaOf(t.Field(i).Type)
		}
		return s
	}
	return &schema{}
}

// descendants returns s and every schema below it.
func (s *schema) descendants() []*schema {
	out := []*schema{s}
	for _, name := range s.names {
		out = append(out, s.fields[name].descendants()...)
	}
	if s.elem != nil {
		out = append(out, s.elem.descendants()...)
	}
	return out
}

// unknownIn says what of a path the purchase event does not have, or ""
// when it has it (or when the path is beyond this check: filters, unions,
// slices).
func unknownIn(text string) string {
	var sc scanner.Scanner
	sc.Init(strings.NewReader(text))
	sc.Error = func(*scanner.Scanner, string) {}
	var toks []string
	var kinds []rune
	for t := sc.Scan(); t != scanner.EOF; t = sc.Scan() {
		toks, kinds = append(toks, sc.TokenText()), append(kinds, t)
	}
	if len(toks) == 0 || toks[0] != "$" {
		return ""
	}
	at := []*schema{purchaseSchema}
	for i := 1; i < len(toks); {
		descend := false
		switch {
		case toks[i] == "." && i+1 < len(toks) && toks[i+1] == ".":
			descend, i = true, i+2
		case toks[i] == ".":
			i++
		case toks[i] != "[":
			return ""
		}
		var key string
		var kind rune
		switch {
		case i+2 < len(toks) && toks[i] == "[" && toks[i+2] == "]":
			key, kind, i = toks[i+1], kinds[i+1], i+3
		case i < len(toks) && (kinds[i] == scanner.Ident || toks[i] == "*"):
			key, kind, i = toks[i], kinds[i], i+1
		default:
			return "" // a filter, a union or a slice: beyond this check
		}
		if kind == scanner.String || kind == scanner.RawString || kind == scanner.Char {
			unquoted, err := strconv.Unquote(key)
			if err != nil {
				return ""
			}
			key, kind = unquoted, scanner.Ident
		}
		if descend {
			var all []*schema
			for _, s := range at {
				all = append(all, s.descendants()...)
			}
			at = all
		}
		var next []*schema
		for _, s := range at {
			switch {
			case key == "*":
				next = append(next, s.children()...)
			case kind == scanner.Int && s.elem != nil:
				next = append(next, s.elem)
			case kind == scanner.Ident && s.fields[key] != nil:
				next = append(next, s.fields[key])
			}
		}
		if len(next) == 0 {
			return missing(key, kind, at, descend)
		}
		at = next
	}
	return ""
}

func (s *schema) children() []*schema {
	var out []*schema
	for _, name := range s.names {
		out = append(out, s.fields[name])
	}
	if s.elem != nil {
		out = append(out, s.elem)
	}
	return out
}

// missing words what the purchase event lacks, with the names it has
// where the key was looked for, and the closest of them.
func missing(key string, kind rune, at []*schema, descend bool) string {
	var names []string
	for _, s := range at {
		for _, n := range s.names {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	if kind == scanner.Int {
		return fmt.Sprintf("the store's purchase event has no list where [%s] is read", key)
	}
	if len(names) == 0 {
		return fmt.Sprintf("the store's purchase event has no field %s there", key)
	}
	msg := fmt.Sprintf("the store's purchase event has no field %s", key)
	if !descend {
		msg += " there (it has " + strings.Join(names, ", ") + ")"
	}
	if near := closest(key, names); near != "" {
		msg += "; did you mean " + near + "?"
	}
	return msg
}

// closest is the name within two edits of key, if there is one.
func closest(key string, names []string) string {
	best, bestDist := "", 3
	for _, n := range names {
		if d := editDistance(strings.ToLower(key), n); d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
