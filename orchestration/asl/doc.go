// Package asl reads Amazon States Language definitions and evaluates the
// parts of a state that are pure functions of JSON: paths, payload
// templates (Parameters, ResultSelector), intrinsic functions, Choice
// rules, and the error names and matching of Retry and Catch. The durable
// executor (package executor) runs machines built from it.
//
// The supported subset is the one our definitions use, checked against an
// independent runtime; docs/decisions/0007-asl-subset.md lists it and where
// it differs from Step Functions.
//
// JSON values are Go values decoded with UseNumber: map[string]any, []any,
// string, json.Number, bool and nil. Numbers keep their exact text.
package asl
