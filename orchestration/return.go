package orchestration

import _ "embed"

// Return is the return saga, return.asl.json.
//
//go:embed return.asl.json
var Return []byte

// ReturnMachine is the name the return saga is registered under.
const ReturnMachine = "return"
