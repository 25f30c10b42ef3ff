package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"

	"github.com/unicornstore/unicorn/limits"
)

// Functions a formula may call, with how many arguments each takes
// (max -1: any number from min). Nothing else is callable. A function
// either maps one value (one) or folds its arguments pairwise (fold), so a
// call needs no slice of arguments.
var functions = map[string]struct {
	min, max int
	one      func(x num) num
	fold     func(acc, x num) num
}{
	"min": {min: 2, max: -1, fold: func(a, x num) num {
		if x.cmp(a) < 0 {
			return x
		}
		return a
	}},
	"max": {min: 2, max: -1, fold: func(a, x num) num {
		if x.cmp(a) > 0 {
			return x
		}
		return a
	}},
	"floor": {min: 1, max: 1, one: func(x num) num { return x.roundTo(0, modeFloor) }},
	"ceil":  {min: 1, max: 1, one: func(x num) num { return x.roundTo(0, modeCeil) }},
	"abs":   {min: 1, max: 1, one: num.abs},
	// round(x) rounds half away from zero to a whole number; round(x, n)
	// to n decimal places (0 to 8, checked when compiled).
	"round": {min: 1, max: 2, one: func(x num) num { return x.roundTo(0, modeHalfAway) }, fold: func(x, places num) num {
		p, _ := places.int64()
		return x.roundTo(int32(p), modeHalfAway)
	}},
}

// formula is a compiled formula.
type formula struct {
	text  string
	root  node
	paths []*path // the event values it reads, in order of first use
}

// node is one step of a compiled formula.
type node interface {
	eval(s *scope) (num, error)
}

type constNode struct{ v num }

type pathNode struct{ p *path }

type negNode struct{ n node }

type binaryNode struct {
	op   byte
	l, r node
}

type callNode struct {
	name string
	one  func(num) num
	fold func(acc, x num) num
	args []node
}

// Why a formula has no value for an event. A breakdown's note says it in
// words a customer can read, without the formula.
var (
	errDivByZero = errors.New("division by zero")
	errAbsent    = errors.New("a value the rule reads is absent from the purchase")
	errNotNumber = errors.New("a value the rule reads is not a number")
)

func (n constNode) eval(*scope) (num, error) { return n.v, nil }

func (n pathNode) eval(s *scope) (num, error) {
	v := s.get(n.p)
	switch {
	case !v.present:
		return num{}, errAbsent
	case !v.isNum:
		return num{}, errNotNumber
	}
	return v.num, nil
}

func (n negNode) eval(s *scope) (num, error) {
	v, err := n.n.eval(s)
	return v.neg(), err
}

func (n binaryNode) eval(s *scope) (num, error) {
	l, err := n.l.eval(s)
	if err != nil {
		return l, err
	}
	r, err := n.r.eval(s)
	if err != nil {
		return r, err
	}
	switch n.op {
	case '+':
		return l.add(r), nil
	case '-':
		return l.sub(r), nil
	case '*':
		return l.mul(r), nil
	}
	if r.isZero() {
		return r, errDivByZero
	}
	return l.div(r), nil
}

func (n callNode) eval(s *scope) (num, error) {
	acc, err := n.args[0].eval(s)
	if err != nil {
		return acc, err
	}
	if len(n.args) == 1 {
		return n.one(acc), nil
	}
	for _, a := range n.args[1:] {
		v, err := a.eval(s)
		if err != nil {
			return v, err
		}
		acc = n.fold(acc, v)
	}
	return acc, nil
}

// formulaResult is a formula's value for one event.
type formulaResult struct {
	raw    num
	inputs Inputs
	err    error
}

// run computes the formula for the scope's event.
func (f *formula) run(s *scope) formulaResult {
	raw, err := f.root.eval(s)
	r := formulaResult{raw: raw, err: err}
	start := len(s.inputs)
	for _, p := range f.paths {
		if v := s.get(p); v.isNum {
			s.inputs = append(s.inputs, Input{Path: p.text, Value: v.raw.(json.Number)}) // as the event wrote it
		}
	}
	r.inputs = s.inputs[start:len(s.inputs):len(s.inputs)]
	return r
}

// compileFormula parses text with expr's parser and compiles the allowed
// subset; anything else is a problem at field, with its position.
func compileFormula(text, field string, p *problems) *formula {
	switch {
	case strings.TrimSpace(text) == "":
		p.add(field, "a formula is required, such as $.amount/10")
		return nil
	case len(text) > limits.FormulaChars:
		p.add(field, "a formula may have at most %d characters", limits.FormulaChars)
		return nil
	}
	cfg := conf.CreateNew()
	cfg.MaxNodes = limits.FormulaNodes
	tree, err := parser.ParseWithConfig(text, cfg)
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			p.addAt(field, fe.From, "%s", fe.Message)
		} else {
			p.add(field, "%v", err)
		}
		return nil
	}
	c := &formulaCompiler{text: text, field: field, p: p, seen: map[string]bool{}}
	root := c.compile(tree.Node)
	if c.failed {
		return nil
	}
	f := &formula{text: text, root: root, paths: c.paths}
	// A result that can be known now must not be negative.
	if len(f.paths) == 0 {
		v, err := root.eval(newScope(context.Background(), Event{}, 0))
		switch {
		case err != nil:
			p.addAt(field, 0, "%v", err)
			return nil
		case v.sign() < 0:
			p.addAt(field, 0, "the formula is always %s: points cannot be negative", v)
			return nil
		}
	}
	if !signOf(root).has(positive) {
		p.addAt(field, 0, "the formula never gives points when the event's values are zero or more")
		return nil
	}
	return f
}

// signs is the set of signs a value can have: what can be known of a
// formula's result before any event, assuming event values are not
// negative (amounts, quantities, prices).
type signs uint8

const (
	negative signs = 1 << iota
	zero
	positive
)

func (s signs) has(x signs) bool { return s&x != 0 }

func signOfValue(d num) signs {
	switch d.sign() {
	case -1:
		return negative
	case 0:
		return zero
	}
	return positive
}

func flip(s signs) signs {
	out := s & zero
	if s.has(negative) {
		out |= positive
	}
	if s.has(positive) {
		out |= negative
	}
	return out
}

func signOf(n node) signs {
	switch n := n.(type) {
	case constNode:
		return signOfValue(n.v)
	case pathNode:
		return zero | positive
	case negNode:
		return flip(signOf(n.n))
	case binaryNode:
		l, r := signOf(n.l), signOf(n.r)
		switch n.op {
		case '-':
			return addSigns(l, flip(r))
		case '+':
			return addSigns(l, r)
		case '/':
			r &^= zero // a zero divisor is an error, not a value
		}
		var out signs
		if l.has(zero) || r.has(zero) {
			out |= zero
		}
		if l.has(positive) && r.has(positive) || l.has(negative) && r.has(negative) {
			out |= positive
		}
		if l.has(positive) && r.has(negative) || l.has(negative) && r.has(positive) {
			out |= negative
		}
		return out
	case callNode:
		args := make([]signs, len(n.args))
		for i, a := range n.args {
			args[i] = signOf(a)
		}
		a := args[0]
		switch n.name {
		case "abs":
			out := a & zero
			if a.has(negative | positive) {
				out |= positive
			}
			return out
		case "floor", "round": // 0.4 becomes 0: a positive may become zero
			if a.has(positive) {
				a |= zero
			}
			if n.name == "round" && a.has(negative) {
				a |= zero
			}
			return a
		case "ceil":
			if a.has(negative) {
				a |= zero
			}
			return a
		case "min", "max":
			var any, all signs = 0, negative | zero | positive
			for _, s := range args {
				any |= s
				all &= s
			}
			if n.name == "min" {
				return any&(negative|zero) | all&positive
			}
			return any&(positive|zero) | all&negative
		}
	}
	return negative | zero | positive
}

func addSigns(l, r signs) signs {
	out := (l | r) & (negative | positive)
	if l.has(zero) && r.has(zero) || l.has(positive) && r.has(negative) || l.has(negative) && r.has(positive) {
		out |= zero
	}
	return out
}

type formulaCompiler struct {
	text   string
	field  string
	p      *problems
	failed bool
	paths  []*path
	seen   map[string]bool
}

func (c *formulaCompiler) fail(n ast.Node, format string, args ...any) node {
	c.failed = true
	c.p.addAt(c.field, n.Location().From, format, args...)
	return nil
}

func (c *formulaCompiler) compile(n ast.Node) node {
	switch n := n.(type) {
	case *ast.IntegerNode, *ast.FloatNode:
		// The literal's own text, so 0.1 is exactly one tenth.
		loc := n.Location()
		d, ok := limits.Decimal(c.text[loc.From:loc.To])
		if !ok {
			return c.fail(n, "%q is out of range: numbers have at most %d digits and an exponent within ±%d", c.text[loc.From:loc.To], limits.NumberDigits, limits.NumberExponent)
		}
		return constNode{numOf(d)}
	case *ast.MemberNode:
		text, ok := memberPath(n)
		if !ok {
			return c.fail(n, "only event values such as $.amount or $.items[0].quantity can be read")
		}
		pth, err := compilePath(text)
		if err != nil {
			return c.fail(n, "%v", err)
		}
		if !c.seen[text] {
			c.seen[text] = true
			c.paths = append(c.paths, pth)
		}
		var base ast.Node = n
		for m, ok := base.(*ast.MemberNode); ok; m, ok = base.(*ast.MemberNode) {
			base = m.Node
		}
		pos := base.Location().From // where the path starts: its $
		c.p.use(c.field, &pos, pth)
		return pathNode{pth}
	case *ast.IdentifierNode:
		if n.Value == "$" {
			return c.fail(n, "$ is the whole event: name a value, such as $.amount")
		}
		return c.fail(n, "unknown name %q: event values are written $.%s", n.Value, n.Value)
	case *ast.UnaryNode:
		switch n.Operator {
		case "-":
			return fold(negNode{c.compile(n.Node)})
		case "+":
			return c.compile(n.Node)
		}
		return c.fail(n, "operator %q is not allowed", n.Operator)
	case *ast.BinaryNode:
		if len(n.Operator) != 1 || !strings.Contains("+-*/", n.Operator) {
			return c.fail(n, "operator %q is not allowed: use + - * /", n.Operator)
		}
		l, r := c.compile(n.Left), c.compile(n.Right)
		if n.Operator == "/" {
			if k, ok := r.(constNode); ok && k.v.isZero() {
				return c.fail(n, "division by zero: the divisor is always 0")
			}
		}
		return fold(binaryNode{op: n.Operator[0], l: l, r: r})
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok {
			return c.fail(n, "only min, max, floor, ceil, round and abs can be called")
		}
		return c.call(n, id.Value, n.Arguments)
	case *ast.BuiltinNode:
		// expr's parser knows min, max, abs, ... as its builtins; here
		// they are ours, over decimals. Its other builtins are refused.
		if n.Map != nil {
			return c.fail(n, "function %q is not allowed", n.Name)
		}
		return c.call(n, n.Name, n.Arguments)
	}
	return c.fail(n, "%s is not allowed in a formula: use numbers, event values ($.amount), + - * / and min, max, floor, ceil, round, abs", describe(n))
}

func (c *formulaCompiler) call(n ast.Node, name string, argNodes []ast.Node) node {
	fn, ok := functions[name]
	if !ok {
		return c.fail(n, "function %q is not allowed: use min, max, floor, ceil, round or abs", name)
	}
	if len(argNodes) < fn.min || fn.max >= 0 && len(argNodes) > fn.max {
		return c.fail(n, "%s takes %s", name, arity(fn.min, fn.max))
	}
	args := make([]node, len(argNodes))
	for i, a := range argNodes {
		args[i] = c.compile(a)
	}
	if name == "round" && len(args) == 2 {
		k, ok := args[1].(constNode)
		places, whole := k.v.int64()
		if !ok || !whole || places < 0 || places > 8 {
			return c.fail(argNodes[1], "round's places must be a whole number from 0 to 8")
		}
	}
	return fold(callNode{name: name, one: fn.one, fold: fn.fold, args: args})
}

// fold computes a step whose inputs are all constants now, so that what
// can be known when the campaign is saved is (a division by 2 - 2 is a
// division by zero). The value is the one evaluation would compute.
func fold(n node) node {
	var args []node
	switch n := n.(type) {
	case negNode:
		args = []node{n.n}
	case binaryNode:
		args = []node{n.l, n.r}
	case callNode:
		args = n.args
	}
	for _, a := range args {
		if _, ok := a.(constNode); !ok {
			return n
		}
	}
	v, err := n.eval(nil)
	if err != nil {
		return n // a division by zero, refused by the caller
	}
	return constNode{v}
}

// memberPath turns $.a.b[0]["c d"] into its JSONPath, if it is one.
func memberPath(n ast.Node) (string, bool) {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		return "$", n.Value == "$"
	case *ast.MemberNode:
		if n.Optional || n.Method {
			return "", false
		}
		base, ok := memberPath(n.Node)
		if !ok {
			return "", false
		}
		switch prop := n.Property.(type) {
		case *ast.StringNode:
			if isIdentifier(prop.Value) {
				return base + "." + prop.Value, true
			}
			return base + "[" + strconv.Quote(prop.Value) + "]", true
		case *ast.IntegerNode:
			return base + "[" + strconv.Itoa(prop.Value) + "]", true
		}
	}
	return "", false
}

func isIdentifier(s string) bool {
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

func arity(min, max int) string {
	switch {
	case max < 0:
		return fmt.Sprintf("at least %d arguments", min)
	case min == max && min == 1:
		return "one argument"
	case min == max:
		return fmt.Sprintf("%d arguments", min)
	}
	return fmt.Sprintf("%d or %d arguments", min, max)
}

func describe(n ast.Node) string {
	switch n.(type) {
	case *ast.StringNode:
		return "a string"
	case *ast.BoolNode:
		return "true/false"
	case *ast.NilNode:
		return "nil"
	case *ast.ConditionalNode:
		return "a conditional"
	case *ast.ArrayNode, *ast.MapNode:
		return "a literal list or map"
	case *ast.PredicateNode, *ast.PointerNode:
		return "a closure"
	}
	return fmt.Sprintf("%q", n.String())
}
