package campaign

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/unicornstore/unicorn/limits"
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

// ParseEvent reads a purchase event. An event is bounded (limits.EventBytes,
// EventDepth, EventValues) so that no rule can take long over it: a
// recursive descent visits every value, at a cost that grows with the
// depth of each.
func ParseEvent(raw []byte) (Event, error) {
	if len(raw) > limits.EventBytes {
		return Event{}, fmt.Errorf("%w: the event has %d bytes; at most %d are allowed", ErrInvalidEvent, len(raw), limits.EventBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var data any
	if err := dec.Decode(&data); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrInvalidEvent, err)
	}
	if dataAfter(raw, dec) {
		return Event{}, fmt.Errorf("%w: data after the JSON object", ErrInvalidEvent)
	}
	return newEvent(data)
}

// newEvent wraps an event decoded from JSON (with UseNumber).
func newEvent(data any) (Event, error) {
	obj, ok := data.(map[string]any)
	if !ok {
		return Event{}, fmt.Errorf("%w: it must be a JSON object", ErrInvalidEvent)
	}
	if err := checkSize(obj); err != nil {
		return Event{}, err
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

// checkSize refuses an event whose objects and arrays nest deeper than
// limits.EventDepth (the event itself is level 1) or that holds more than
// limits.EventValues values (objects, arrays and scalars, the event
// itself not counted).
func checkSize(event map[string]any) error {
	values := 0
	var walk func(v any, depth int) error
	walk = func(v any, depth int) error {
		var children []any
		switch v := v.(type) {
		case map[string]any:
			for _, c := range v {
				children = append(children, c)
			}
		case []any:
			children = v
		default:
			return nil
		}
		if depth > limits.EventDepth {
			return fmt.Errorf("%w: objects and arrays nest deeper than %d levels (the event itself is the first)", ErrInvalidEvent, limits.EventDepth)
		}
		values += len(children)
		if values > limits.EventValues {
			return fmt.Errorf("%w: the event holds more than %d values (objects, arrays, numbers, strings and the rest), the most allowed", ErrInvalidEvent, limits.EventValues)
		}
		for _, c := range children {
			if err := walk(c, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(event, 1)
}

// MarshalJSON writes the event back as it came.
func (e Event) MarshalJSON() ([]byte, error) { return json.Marshal(e.data) }

// value is what a path found in an event.
type value struct {
	present bool
	raw     any // json.Number, string, bool, nil, []any, map[string]any
	num     num // when isNum
	isNum   bool
}

// scope evaluates one event: each path is looked up once, however many
// rules use it. Lookups stop once ctx is done (its error is kept in err):
// a path's own evaluation is short (paths and events are bounded), so
// checking before each one makes the evaluation stop within one path of
// its deadline.
type scope struct {
	ctx    context.Context
	done   <-chan struct{} // ctx's; nil when it never ends
	err    error
	ev     Event
	values map[*path]*value
	inputs []Input // backing store of every line's inputs
}

// newScope starts evaluating ev by up to rules rules.
func newScope(ctx context.Context, ev Event, rules int) *scope {
	return &scope{ctx: ctx, done: ctx.Done(), ev: ev, values: make(map[*path]*value, 8), inputs: make([]Input, 0, 2*rules)}
}

// stopped reports whether the evaluation must stop (its context is done),
// keeping the context's error. Between rules: a receive that does not
// wait is cheaper than ctx.Err, which takes a lock.
func (s *scope) stopped() bool {
	if s.err != nil {
		return true
	}
	select {
	case <-s.done:
		s.err = s.ctx.Err()
		return true
	default:
		return false
	}
}

// absent is what every lookup gives once the evaluation is stopped.
var absent = &value{}

func (s *scope) get(p *path) *value {
	if v, ok := s.values[p]; ok {
		return v
	}
	if s.err != nil {
		return absent
	}
	if err := s.ctx.Err(); err != nil { // once per path read: a lock is cheap beside it
		s.err = err
		return absent
	}
	v := &value{}
	// An absent key or index is not an error: the value is just absent.
	// A path selecting several values gives a list: present when it
	// selected at least one.
	if raw, err := p.eval(s.ctx, s.ev.data); err == nil {
		list, isList := raw.([]any)
		v.present, v.raw = !p.multi || !isList || len(list) > 0, raw
		if n, ok := raw.(json.Number); ok {
			if d, ok := limits.Decimal(n.String()); ok {
				v.num, v.isNum = numOf(d), true
			}
		}
	}
	s.values[p] = v
	return v
}
