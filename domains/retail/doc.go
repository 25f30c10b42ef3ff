// Package retail is the store: the catalog, wallets, orders, and the steps
// of the purchase saga with their compensations.
//
// A purchase creates a pending order and starts the saga
// (orchestration/purchase.asl.json) under the order's id. Each step is a
// method of Steps, idempotent per order: stock is reserved under the order
// id, points are redeemed and awarded under keys derived from it, the
// wallet is charged once per order. Every compensation is safe to run even
// if its step never ran, and records that it ran so the step cannot happen
// afterwards.
package retail
