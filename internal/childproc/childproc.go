// Package childproc holds what tests and tools need of the processes they
// start (DynamoDB Local, the Step Functions server, Lambda emulators, the
// store's own binary).
package childproc
