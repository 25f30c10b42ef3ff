// Package ports holds the driven side of the hexagon: the small interfaces the
// domains need from the outside world (storage, time, identifiers), the plain
// records that cross them, and the sentinel errors every adapter must return.
//
// Adapters live in ../adapters and implement these interfaces; each port has a
// contract suite in ./porttest that every adapter runs, so an SQLite and a
// DynamoDB adapter of the same port behave the same.
package ports
