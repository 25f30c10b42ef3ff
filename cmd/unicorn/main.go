// Command unicorn runs the Unicorn Store on one machine: the HTTP API over
// an embedded SQLite database, and the operator commands beside it.
//
//	unicorn serve                 start the store (API, outbox dispatcher, expiry sweeper)
//	unicorn projections rebuild   replay the ledger into a fresh points read model
//	unicorn points expire         expire due points once
//	unicorn users create|list     manage the users who sign in
//	unicorn apikeys create|list|revoke  manage the keys of API clients
//
// Configuration comes from flags or the environment (see usage).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "unicorn:", err)
		os.Exit(1)
	}
}

const usage = `usage: unicorn <command> [flags]

commands:
  serve                 start the store: HTTP API, outbox dispatcher, expiry sweeper
  projections rebuild   replay the points ledger into a fresh read model
  points expire         expire the points of lots past their expiry, once
  backup FILE           write a consistent copy of the database to FILE, while serving
  restore FILE          put a backup in place of the database (stop serve first)
  users create          add a user: -username, -role (customer, marketer, admin), -client;
                        the password is read from stdin
  users list            the users, with their roles
  apikeys create        make a key for an API client: -client, -scopes points:read,points:write,
                        -name; the key is printed once
  apikeys list          the keys (never their secrets), when each was last used
  apikeys revoke <id>   stop a key from working, at once

Run "unicorn <command> -h" for a command's flags. Every flag can also be set
in the environment (shown in brackets); a flag wins over the environment.
`

// run is the whole program, so that tests can drive it like main does.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	switch cmd := args[0]; {
	case cmd == "serve":
		return serve(ctx, args[1:], getenv, stdout, stderr)
	case cmd == "projections" && len(args) > 1 && args[1] == "rebuild":
		return rebuild(ctx, args[2:], getenv, stdout, stderr)
	case cmd == "points" && len(args) > 1 && args[1] == "expire":
		return expire(ctx, args[2:], getenv, stdout, stderr)
	case cmd == "backup":
		return backup(ctx, args[1:], getenv, stdout, stderr)
	case cmd == "restore":
		return restore(ctx, args[1:], getenv, stdout, stderr)
	case cmd == "users":
		return usersCommand(ctx, args[1:], getenv, stdin, stdout, stderr)
	case cmd == "apikeys":
		return apikeysCommand(ctx, args[1:], getenv, stdout, stderr)
	case cmd == "help" || cmd == "-h" || cmd == "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}
