// Package porttest holds one contract test suite per port. Every adapter of a
// port runs its suite against the real storage, so adapters cannot drift
// apart in behaviour.
package porttest
