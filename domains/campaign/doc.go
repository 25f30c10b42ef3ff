// Package campaign holds the marketers' campaign rules: what a purchase
// earns. A campaign is a client's named, versioned list of rules; a rule has
// a condition over the purchase event (JSONPath variables, comparison
// operators, all/any/not) and an action whose formula computes points.
//
// Rules are compiled and checked when saved, never evaluated from text: a
// formula is parsed with expr-lang/expr's parser, checked against a strict
// allow-list (arithmetic, JSONPath references, min/max/floor/ceil/round/abs)
// and compiled into a small evaluator over shopspring/decimal. There is no
// eval, no loop and no function outside the list, so a rule cannot run long
// or allocate without bound, and no float touches a point.
//
// The format is seed 003's, kept compatible:
//
//	{"variable":"$.amount","condition":{"rule":"numeric_greater_than","value":100},
//	 "action":{"command":"issue","formula":"$.amount/10"}}
package campaign
