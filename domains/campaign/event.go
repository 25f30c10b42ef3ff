package campaign

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/PaesslerAG/gval"
	"github.com/PaesslerAG/jsonpath"
	"github.com/shopspring/decimal"
)

// Event is a purchase event as rules see it: any JSON object, with the
// fields the store itself needs (client, username, order_id) read out.
// Numbers are kept as their exact text, never as floats.
type Event struct {
	Client   string
	Username string
	OrderID  string
	data     any
}

// ParseEvent reads a purchase event.
func ParseEvent(raw []byte) (Event, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var data any
	if err := dec.Decode(&data); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrInvalidEvent, err)
	}
	if dec.More() {
		return Event{}, fmt.Errorf("%w: data after the JSON object", ErrInvalidEvent)
	}
	return NewEvent(data)
}

// NewEvent wraps an event already decoded from JSON (with UseNumber).
func NewEvent(data any) (Event, error) {
	obj, ok := data.(map[string]any)
	if !ok {
		return Event{}, fmt.Errorf("%w: it must be a JSON object", ErrInvalidEvent)
	}
	ev := Event{data: obj}
	for field, dst := range map[string]*string{"client": &ev.Client, "username": &ev.Username, "order_id": &ev.OrderID} {
		switch v := obj[field].(type) {
		case nil:
		case string:
			*dst = v
		case json.Number:
			*dst = v.String()
		default:
			return Event{}, fmt.Errorf("%w: %s must be a string", ErrInvalidEvent, field)
		}
	}
	return ev, nil
}

// MarshalJSON writes the event back as it came.
func (e Event) MarshalJSON() ([]byte, error) { return json.Marshal(e.data) }

// path is a compiled JSONPath.
type path struct {
	text string
	eval gval.Evaluable
}

const maxPathLength = 256

// paths interns compiled paths by text, so that every rule reading
// $.amount shares one *path and an evaluation looks it up by pointer. It
// holds at most maxInterned paths: drafts from anyone must not grow it
// without bound (past it, paths are compiled afresh, and still work).
var (
	paths       sync.Map // string -> *path
	internedLen atomic.Int64
)

const maxInterned = 10_000

// compilePath checks and compiles a JSONPath over the event.
func compilePath(text string) (*path, error) {
	switch {
	case text == "":
		return nil, fmt.Errorf("a JSONPath is required, such as $.amount")
	case len(text) > maxPathLength:
		return nil, fmt.Errorf("a JSONPath may have at most %d characters", maxPathLength)
	case !strings.HasPrefix(text, "$"):
		return nil, fmt.Errorf("%q is not a JSONPath: it must start with $", text)
	}
	if p, ok := paths.Load(text); ok {
		return p.(*path), nil
	}
	eval, err := jsonpath.New(text)
	if err != nil {
		return nil, fmt.Errorf("%q is not a valid JSONPath: %v", text, err)
	}
	fresh := &path{text: text, eval: eval}
	if internedLen.Load() >= maxInterned {
		return fresh, nil
	}
	p, loaded := paths.LoadOrStore(text, fresh)
	if !loaded {
		internedLen.Add(1)
	}
	return p.(*path), nil
}

// value is what a path found in an event.
type value struct {
	present bool
	raw     any // json.Number, string, bool, nil, []any, map[string]any
	num     num // when isNum
	isNum   bool
}

// scope evaluates one event: each path is looked up once, however many
// rules use it.
type scope struct {
	ev     Event
	values map[*path]*value
	inputs []Input // backing store of every line's inputs
}

// newScope starts evaluating ev by up to rules rules.
func newScope(ev Event, rules int) *scope {
	return &scope{ev: ev, values: make(map[*path]*value, 8), inputs: make([]Input, 0, 2*rules)}
}

func (s *scope) get(p *path) *value {
	if v, ok := s.values[p]; ok {
		return v
	}
	v := &value{}
	// An absent key or index is not an error: the value is just absent.
	if raw, err := p.eval(context.Background(), s.ev.data); err == nil {
		v.present, v.raw = true, raw
		if n, ok := raw.(json.Number); ok {
			if d, ok := parseNumber(n.String()); ok {
				v.num, v.isNum = numOf(d), true
			}
		}
	}
	s.values[p] = v
	return v
}

// Numbers a rule works with are bounded: at most maxDigits significant
// digits and a decimal exponent within ±maxExponent. Arithmetic on
// 1e-999999999 would allocate a number with a billion digits; a number
// outside the bounds counts as not a number.
const (
	maxDigits   = 40
	maxExponent = 40
)

func parseNumber(s string) (decimal.Decimal, bool) {
	if len(s) > 2*maxDigits+8 {
		return decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, false
	}
	exp := d.Exponent()
	digits := len(d.Coefficient().String())
	if d.Coefficient().Sign() < 0 {
		digits--
	}
	if exp < -maxExponent || exp > maxExponent || digits > maxDigits {
		return decimal.Decimal{}, false
	}
	return d, true
}
