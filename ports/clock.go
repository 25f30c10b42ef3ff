package ports

import "time"

// Clock tells the time. Expiry, retries and simulations read it through this
// port so that tests can move time by hand.
type Clock interface {
	Now() time.Time
}

// IDs makes unique identifiers (event ids, order ids).
type IDs interface {
	NewID() string
}
