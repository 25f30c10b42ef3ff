package main

import (
	"github.com/unicornstore/unicorn/cmd/internal/compose"

	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// The operator commands of identity: users and API keys. They work on the
// database file directly, safely beside a running serve.

// openCommand builds the app for a command with flags and arguments of its
// own.
func openCommand(ctx context.Context, name string, args []string, getenv func(string) string, stderr io.Writer,
	extra func(*flag.FlagSet)) (*app, []string, error) {
	c, rest, err := compose.ParseCommand(name, args, getenv, stderr, extra, "db", "store-client", "log-level", "log-format")
	if err != nil {
		return nil, nil, err
	}
	a, err := newApp(ctx, c, compose.NewLogger(c, stderr), deps{})
	return a, rest, err
}

// usersCommand runs "users create" and "users list".
func usersCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(`users: "create" or "list"`)
	}
	var username, role, client string
	flags := func(fs *flag.FlagSet) {
		fs.StringVar(&client, "client", "", "the client the user works for (the store's client by default)")
		if args[0] == "create" {
			fs.StringVar(&username, "username", "", "the new user's name (a customer's is also their points account)")
			fs.StringVar(&role, "role", "", "customer, marketer or admin")
		}
	}
	a, rest, err := openCommand(ctx, "users "+args[0], args[1:], getenv, stderr, flags)
	if err != nil {
		return err
	}
	defer a.Close()
	if len(rest) > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(rest, " "))
	}
	switch args[0] {
	case "create":
		// The password comes on stdin, never as an argument: arguments
		// are visible to every user of the machine.
		fmt.Fprintln(stderr, "password (at least 12 characters), then Enter:")
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("read the password from stdin: %w", err)
		}
		if client == "" {
			client = a.cfg.StoreClient
		}
		u, err := a.Identity.CreateUser(ctx, username, client, role, strings.TrimRight(line, "\r\n"))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created %s %s of %s\n", u.Role, u.Username, u.Client)
		return nil
	case "list":
		users, err := a.Identity.Users(ctx, client)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USERNAME\tROLE\tCLIENT\tCREATED")
		for _, u := range users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Username, u.Role, u.Client, u.CreatedAt.Format(time.DateTime))
		}
		return tw.Flush()
	}
	return fmt.Errorf("users: unknown command %q (create or list)", args[0])
}

// apikeysCommand runs "apikeys create", "apikeys list" and "apikeys revoke".
func apikeysCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(`apikeys: "create", "list" or "revoke <id>"`)
	}
	var client, scopes, name string
	flags := func(fs *flag.FlagSet) {
		switch args[0] {
		case "create":
			fs.StringVar(&client, "client", "", "the client whose accounts the key reaches (the store's client by default)")
			fs.StringVar(&scopes, "scopes", "points:read", "comma-separated: points:read, points:write")
			fs.StringVar(&name, "name", "", "what the key is for")
		case "list":
			fs.StringVar(&client, "client", "", "only this client's keys")
		}
	}
	a, rest, err := openCommand(ctx, "apikeys "+args[0], args[1:], getenv, stderr, flags)
	if err != nil {
		return err
	}
	defer a.Close()
	switch args[0] {
	case "create":
		if len(rest) > 0 {
			return fmt.Errorf("unexpected arguments: %s", strings.Join(rest, " "))
		}
		if client == "" {
			client = a.cfg.StoreClient
		}
		key, k, err := a.Identity.CreateAPIKey(ctx, client, name, strings.Split(scopes, ","))
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "API key %s for %s with %s; it is shown this once:\n", k.ID, k.Client, strings.Join(k.Scopes, ","))
		fmt.Fprintln(stdout, key)
		return nil
	case "list":
		keys, err := a.Identity.APIKeys(ctx, client)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tCLIENT\tSCOPES\tNAME\tCREATED\tLAST USED\tREVOKED")
		when := func(t time.Time) string {
			if t.IsZero() {
				return "-"
			}
			return t.Format(time.DateTime)
		}
		for _, k := range keys {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Client, strings.Join(k.Scopes, ","), k.Name,
				when(k.CreatedAt), when(k.LastUsedAt), when(k.RevokedAt))
		}
		return tw.Flush()
	case "revoke":
		if len(rest) != 1 {
			return errors.New("apikeys revoke <id>")
		}
		if err := a.Identity.RevokeAPIKey(ctx, rest[0]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked %s\n", rest[0])
		return nil
	}
	return fmt.Errorf("apikeys: unknown command %q (create, list or revoke)", args[0])
}
