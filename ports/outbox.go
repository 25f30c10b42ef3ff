package ports

import "time"

// TopicPointsLedger is the outbox topic on which every appended points event
// is published; the payload is the JSON of an Event.
const TopicPointsLedger = "points.ledger"

// Message is one record of a transactional outbox, delivered at least once to
// each subscriber of its topic, in the order it was written.
type Message struct {
	ID        int64
	Topic     string
	Key       string // what the message is about (an account, a product)
	Payload   []byte
	CreatedAt time.Time
}
