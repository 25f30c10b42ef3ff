// Package integration tests the domains wired to real adapters: the points
// service and read model over an SQLite file and over DynamoDB Local, under
// concurrency, duplicates, out-of-order delivery and random histories.
// It holds tests only.
package integration
