// Package orchestration holds the saga definitions of the store. The same
// files run on AWS Step Functions (CDK substitutes the ${...FunctionArn}
// placeholders) and on the local executor in ./executor.
package orchestration

import _ "embed"

// Purchase is the purchase saga, purchase.asl.json.
//
//go:embed purchase.asl.json
var Purchase []byte

// PurchaseMachine is the name the purchase saga is registered under.
const PurchaseMachine = "purchase"
