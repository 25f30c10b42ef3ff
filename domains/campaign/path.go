package campaign

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"text/scanner"
	"unicode"

	"github.com/PaesslerAG/gval"
	"github.com/PaesslerAG/jsonpath"

	"github.com/unicornstore/unicorn/limits"
)

// path is a compiled JSONPath.
type path struct {
	text  string
	eval  gval.Evaluable
	multi bool // it may select several values: its value is then a list
	// unknown says what of it the store's purchase event does not have
	// ("": it has it, or cannot tell).
	unknown string
}

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
	case len(text) > limits.PathChars:
		return nil, fmt.Errorf("a JSONPath may have at most %d characters", limits.PathChars)
	case !strings.HasPrefix(text, "$"):
		return nil, fmt.Errorf("%q is not a JSONPath: it must start with $", text)
	}
	if p, ok := paths.Load(text); ok {
		return p.(*path), nil
	}
	shape, err := shapeOf(text)
	if err != nil {
		return nil, fmt.Errorf("%q: %v", text, err)
	}
	eval, err := jsonpath.New(text)
	if err != nil {
		return nil, fmt.Errorf("%q is not a valid JSONPath: %v", text, err)
	}
	fresh := &path{text: text, eval: eval, multi: shape.multi > 0, unknown: unknownIn(text)}
	if internedLen.Load() >= maxInterned {
		return fresh, nil
	}
	p, loaded := paths.LoadOrStore(text, fresh)
	if !loaded {
		internedLen.Add(1)
	}
	return p.(*path), nil
}

// pathShape counts what makes a JSONPath costly. PaesslerAG/jsonpath
// evaluates a recursive descent (..) by visiting every value below, and
// every selector after a selector of several values once per value
// selected; it does not look at its context while it runs. Measured on
// the largest event allowed (docs/decisions/0006-campaign-rule-language.md):
// one descent costs milliseconds, a second one multiplies that by the
// depth, and a path inside a filter is run once per value filtered (a
// descent in a filter under a descent took 13 to 17 seconds). So a path
// may have at most limits.PathDescents descents and
// limits.PathMultiSelectors selectors of several values in all, at most one
// filter, unions of at most limits.PathUnionKeys keys, and no path inside a
// key or a filter other than @ (the value being filtered).
type pathShape struct {
	descents, multi, filters int
}

// shapeOf reads a JSONPath's tokens the way gval's parser does (Go
// tokens: strings are one token, so "$['a..b']" has no descent).
func shapeOf(text string) (pathShape, error) {
	var sh pathShape
	var sc scanner.Scanner
	sc.Init(strings.NewReader(text))
	sc.Error = func(*scanner.Scanner, string) {}
	sc.IsIdentRune = func(r rune, pos int) bool { return unicode.IsLetter(r) || r == '_' || pos > 0 && unicode.IsDigit(r) }
	var toks []rune
	for t := sc.Scan(); t != scanner.EOF; t = sc.Scan() {
		toks = append(toks, t)
	}
	// brackets holds, for each open [ or (, whether it is a filter's.
	var brackets []bool
	inFilter := func() bool {
		for _, f := range brackets {
			if f {
				return true
			}
		}
		return false
	}
	// Each [ ... ] at the path's own level: its commas and colons.
	type bracket struct{ commas, colons int }
	var open []*bracket
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch t {
		case '$':
			if i > 0 {
				return sh, fmt.Errorf("a path may not contain another path ($): inside a filter, use @ for the value filtered")
			}
		case '@':
			if !inFilter() {
				return sh, fmt.Errorf("@ (the value filtered) can only be used in a filter such as [?(@.sku == \"x\")]")
			}
		case '.':
			if i+1 < len(toks) && toks[i+1] == '.' {
				sh.descents++
				sh.multi++
				i++
			}
		case '*':
			sh.multi++
		case '(':
			if i == 0 || toks[i-1] != '?' {
				if !inFilter() {
					return sh, fmt.Errorf("script expressions ( ... ) are not allowed: use a filter [?( ... )] or an index")
				}
			}
			brackets = append(brackets, i > 0 && toks[i-1] == '?')
		case ')':
			if len(brackets) > 0 {
				brackets = brackets[:len(brackets)-1]
			}
		case '[':
			if i+1 < len(toks) && toks[i+1] == '?' {
				sh.filters++
				sh.multi++
			}
			brackets = append(brackets, false)
			open = append(open, &bracket{})
		case ']':
			if len(brackets) > 0 {
				brackets = brackets[:len(brackets)-1]
			}
			if len(open) > 0 {
				b := open[len(open)-1]
				open = open[:len(open)-1]
				switch {
				case b.commas+1 > limits.PathUnionKeys:
					return sh, fmt.Errorf("a union [a, b, ...] may have at most %d keys", limits.PathUnionKeys)
				case b.commas > 0 || b.colons > 0:
					sh.multi++
				}
			}
		case ',', ':':
			if len(open) > 0 && !inFilter() {
				if t == ',' {
					open[len(open)-1].commas++
				} else {
					open[len(open)-1].colons++
				}
			}
		}
	}
	switch {
	case sh.descents > limits.PathDescents:
		return sh, fmt.Errorf("a path may have at most %d recursive descent (..)", limits.PathDescents)
	case sh.filters > 1:
		return sh, fmt.Errorf("a path may have at most one filter [?( ... )]")
	case sh.multi > limits.PathMultiSelectors:
		return sh, fmt.Errorf("a path may have at most %d selectors of several values (.., *, [?( ... )], [a, b], [a:b])", limits.PathMultiSelectors)
	}
	return sh, nil
}
