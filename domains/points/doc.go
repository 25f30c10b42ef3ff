// Package points is the loyalty points domain: an event-sourced account
// stream (issue, redeem, expire, reverse) with lots that expire, and the
// CQRS read model built from it.
//
// Commands (Service) decide from the account's own event stream, loaded from
// the ledger, and append new events at the version they read: two concurrent
// redemptions can never overdraw. Queries (ReadModel) read the balances view,
// which is built only from ledger events and can be rebuilt from them.
//
// Lots: points issued on the same UTC day form one lot, which expires
// TTLDays after its issue day (it is spendable while today < expires_on).
// Redemption takes from the oldest active lots first and records what it
// took, so that reversing it restores exactly those lots.
package points
