// Package webhooks tells a client's systems what happened, over HTTP: a
// client registers endpoints for the events it wants (points expiring,
// expired and matured, tier changes, orders completed and returned), and
// every such event is delivered to each of its endpoints subscribed to
// it, signed, retried with backoff, and recorded in a delivery log that an
// admin can read and replay.
//
// At least once, never lost. Events reach the domain as messages of the
// change stream (the SQLite outbox, DynamoDB Streams), and Handle returns
// only once one delivery per endpoint is stored: a crash before it returns
// hands it the message again, and enqueueing is idempotent (a delivery's
// id is made of its endpoint's and its event's). A delivery is claimed
// (its attempt counted, a lease set) before it is sent, so a crash
// during an attempt leaves it pending, to be tried again once the lease
// ends. Receivers deduplicate by the event id (Webhook-Id).
//
// Deliveries are sent by Run, a worker that polls the store for due
// deliveries (one machine), or, where the store cannot be polled (the
// cloud), by whatever the Queue port feeds, calling Deliver per delivery.
//
// Signatures follow Standard Webhooks: headers Webhook-Id (the event
// id), Webhook-Timestamp (unix seconds) and Webhook-Signature
// ("v1,<base64 HMAC-SHA256 of id.timestamp.body>"), keyed by the
// endpoint's secret ("whsec_<base64 of 32 random bytes>"), which is shown
// once, when it is made. VerifySignature is the receiver's side.
//
// Nothing here resolves or dials by itself: the WebhookSender port does,
// asking this package's address rule (no private, loopback or link-local
// address unless Config.AllowPrivate) about every address it is about to
// connect to, so that a host that resolves elsewhere at delivery time
// than when it was registered is refused too.
package webhooks
