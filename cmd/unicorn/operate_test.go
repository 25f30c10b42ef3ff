package main

import (
	"github.com/unicornstore/unicorn/cmd/internal/compose"

	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/domains/points"
)

func noEnv(string) string { return "" }

// seedPoints writes points to the database at db through the app, with the
// clock at "at".
func seedPoints(t *testing.T, db string, at time.Time, ttl int, issues map[string]int64) {
	t.Helper()
	ctx := context.Background()
	c := compose.Defaults()
	c.DBPath, c.TTLDays = db, ttl
	a, err := newApp(ctx, c, slog.New(slog.DiscardHandler), deps{clock: clock.NewManual(at)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for account, n := range issues {
		if _, err := a.Points.Issue(ctx, points.IssueCommand{Account: points.MustAccountID(c.StoreClient, account), Amount: n}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestExpireCommand(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "unicorn.db")
	seedPoints(t, db, time.Now().AddDate(0, 0, -10), 2, map[string]int64{"old-1": 100, "old-2": 20})
	seedPoints(t, db, time.Now(), 2, map[string]int64{"new": 5})
	var out bytes.Buffer
	if err := run(context.Background(), []string{"points", "expire", "-db", db}, noEnv, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != "expired 120 points in 2 accounts" {
		t.Errorf("output = %q", got)
	}
	out.Reset()
	if err := run(context.Background(), []string{"points", "expire", "-db", db}, noEnv, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != "expired 0 points in 0 accounts" {
		t.Errorf("second sweep output = %q", got)
	}
}

func TestRebuildCommand(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "unicorn.db")
	seedPoints(t, db, time.Now(), 365, map[string]int64{"a": 1, "b": 2, "c": 3})
	var out, progress bytes.Buffer
	if err := run(context.Background(), []string{"projections", "rebuild", "-db", db}, noEnv, nil, &out, &progress); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^rebuilt the points read model from 3 events in \S+\n$`).MatchString(out.String()) {
		t.Errorf("output = %q", out.String())
	}
	if !strings.Contains(progress.String(), "replaying ledger: 3/3 events (100%)") {
		t.Errorf("progress = %q", progress.String())
	}
	ctx := context.Background()
	c := compose.Defaults()
	c.DBPath = db
	a, err := newApp(ctx, c, slog.New(slog.DiscardHandler), deps{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for account, want := range map[string]int64{"a": 1, "b": 2, "c": 3} {
		v, err := a.db.Balances().Get(ctx, points.MustAccountID(c.StoreClient, account).String())
		if err != nil || v.Seq != 1 || v.Lots[0].Remaining != want {
			t.Errorf("%s after rebuild: %+v, %v", account, v, err)
		}
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	if err := run(context.Background(), nil, noEnv, nil, io.Discard, &stderr); !errors.Is(err, flag.ErrHelp) || !strings.Contains(stderr.String(), "usage: unicorn") {
		t.Errorf("no arguments: %v, %q", err, stderr.String())
	}
	if err := run(context.Background(), []string{"frobnicate"}, noEnv, nil, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Errorf("unknown command: %v", err)
	}
}

// TestUsersAndAPIKeysCommands: an operator adds a user (password on
// stdin), lists users, makes a key (printed once), lists keys without
// their secrets, and revokes one.
func TestUsersAndAPIKeysCommands(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "unicorn.db")
	do := func(stdin string, args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append(args, "-db", db), noEnv, strings.NewReader(stdin), &out, io.Discard)
		return out.String(), err
	}
	if out, err := do("a-long-enough-password\n", "users", "create", "-username", "ann", "-role", "marketer"); err != nil || out != "created marketer ann of UnicornStore\n" {
		t.Fatalf("users create = %q, %v", out, err)
	}
	if _, err := do("short\n", "users", "create", "-username", "bob", "-role", "admin"); err == nil || !strings.Contains(err.Error(), "at least 12") {
		t.Errorf("a short password: %v", err)
	}
	if _, err := do("a-long-enough-password\n", "users", "create", "-username", "ann", "-role", "admin"); err == nil {
		t.Error("a second ann was created")
	}
	if _, err := do("a-long-enough-password\n", "users", "create", "-username", "cid", "-role", "root"); err == nil || !strings.Contains(err.Error(), "role") {
		t.Errorf("an unknown role: %v", err)
	}
	if out, err := do("", "users", "list"); err != nil || !regexp.MustCompile(`(?m)^ann\s+marketer\s+UnicornStore\s`).MatchString(out) {
		t.Errorf("users list = %q, %v", out, err)
	}
	key, err := do("", "apikeys", "create", "-scopes", "points:read,points:write", "-name", "till 3")
	if err != nil || !regexp.MustCompile(`^uk_[0-9a-f]{16}_\S+\n$`).MatchString(key) {
		t.Fatalf("apikeys create = %q, %v", key, err)
	}
	id := strings.Split(key, "_")[1]
	if _, err := do("", "apikeys", "create", "-scopes", "points:admin"); err == nil || !strings.Contains(err.Error(), "unknown scope") {
		t.Errorf("an unknown scope: %v", err)
	}
	list, err := do("", "apikeys", "list")
	if err != nil || !strings.Contains(list, id) || !strings.Contains(list, "till 3") || strings.Contains(list, strings.TrimSpace(key)) {
		t.Errorf("apikeys list = %q, %v", list, err)
	}
	if out, err := do("", "apikeys", "revoke", id); err != nil || out != "revoked "+id+"\n" {
		t.Errorf("apikeys revoke = %q, %v", out, err)
	}
	if _, err := do("", "apikeys", "revoke", "nope"); err == nil {
		t.Error("revoking an unknown key succeeded")
	}
	list, _ = do("", "apikeys", "list")
	if regexp.MustCompile(id + `.*-\n`).MatchString(list) {
		t.Errorf("the revoked key is not shown revoked: %q", list)
	}
}

// freshApp is the app over a new database, with cheap password hashing.
func freshApp(t *testing.T) *app {
	t.Helper()
	c := compose.Defaults()
	c.DBPath = filepath.Join(t.TempDir(), "unicorn.db")
	a, err := newApp(context.Background(), c, slog.New(slog.DiscardHandler), deps{hash: testHash})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// jwtLike matches anything shaped like a JWT (a header starting {"...).
var jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+`)

// TestDemoUsersArePrintedOnce: the first start creates the demo users and
// prints the passwords it made up, where the web app is and a call to
// try, and no token; the next start prints nothing.
func TestDemoUsersArePrintedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := freshApp(t)
	var out bytes.Buffer
	if err := loadDemoUsers(ctx, a, "", "http://localhost:8080", &out); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^  derick\s+customer\s+(\S+)$`).FindStringSubmatch(out.String())
	if m == nil || !strings.Contains(out.String(), "admin     admin") || !strings.Contains(out.String(), "in a browser: http://localhost:8080/ ") ||
		!strings.Contains(out.String(), `"password":"`+m[1]+`"`) {
		t.Fatalf("output:\n%s", out.String())
	}
	if tok := jwtLike.FindString(out.String()); tok != "" {
		t.Errorf("the banner holds a token %q:\n%s", tok, out.String())
	}
	if _, err := a.Identity.SignIn(ctx, "derick", m[1], ""); err != nil {
		t.Errorf("the printed password does not sign in: %v", err)
	}
	out.Reset()
	if err := loadDemoUsers(ctx, a, "", "http://localhost:8080", &out); err != nil || out.Len() != 0 {
		t.Errorf("second start printed %q, %v", out.String(), err)
	}
}

// TestDemoBannerKeepsAGivenPassword: a password given by flag or
// environment is the operator's: the banner (standard output, a
// container's log) names the users and where to sign in, not the password.
func TestDemoBannerKeepsAGivenPassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := freshApp(t)
	const given = "given-demo-password-42"
	var out bytes.Buffer
	if err := loadDemoUsers(ctx, a, given, "http://localhost:8080", &out); err != nil {
		t.Fatal(err)
	}
	banner := out.String()
	if strings.Contains(banner, given) {
		t.Errorf("the banner repeats the given password:\n%s", banner)
	}
	if tok := jwtLike.FindString(banner); tok != "" {
		t.Errorf("the banner holds a token %q:\n%s", tok, banner)
	}
	for _, want := range []string{"-demo-password", "  derick    customer\n", "  marketer  marketer\n", "  admin     admin\n",
		"in a browser: http://localhost:8080/ ", "curl -X POST http://localhost:8080/auth/token"} {
		if !strings.Contains(banner, want) {
			t.Errorf("the banner lacks %q:\n%s", want, banner)
		}
	}
	for _, u := range demoUsers {
		if _, err := a.Identity.SignIn(ctx, u.username, given, ""); err != nil {
			t.Errorf("%s with the given password: %v", u.username, err)
		}
	}
}

// TestServeSettings: the API shows the configured point value and
// lifetime.
func TestServeSettings(t *testing.T) {
	t.Parallel()
	c, err := compose.ParseConfig("serve", []string{"-point-value", "0.05", "-point-ttl-days", "30", "-return-days", "14"}, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c.DBPath = filepath.Join(t.TempDir(), "unicorn.db")
	a, err := newApp(context.Background(), c, slog.New(slog.DiscardHandler), deps{hash: testHash})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	w := httptest.NewRecorder()
	a.handler.ServeHTTP(w, httptest.NewRequest("GET", "/settings", nil))
	if want := `{"point_value":0.05,"point_ttl_days":30}` + "\n"; w.Code != 200 || w.Body.String() != want {
		t.Errorf("GET /settings: %d %q, want %q", w.Code, w.Body, want)
	}
}

// TestServeWebApp: serve's handler serves the web app from the configured
// directory.
func TestServeWebApp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "assets"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"index.html": "<!doctype html><title>Unicorn Store</title>", "assets/app-abc.js": "// app"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := compose.ParseConfig("serve", []string{"-webapp-dir", dir}, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c.DBPath = filepath.Join(t.TempDir(), "unicorn.db")
	a, err := newApp(context.Background(), c, slog.New(slog.DiscardHandler), deps{hash: testHash})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for path, want := range map[string]string{"/": "<!doctype html><title>Unicorn Store</title>", "/assets/app-abc.js": "// app"} {
		w := httptest.NewRecorder()
		a.handler.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != 200 || w.Body.String() != want {
			t.Errorf("GET %s: %d %q, want %q", path, w.Code, w.Body, want)
		}
	}
}
