package porttest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/unicornstore/unicorn/ports"
)

// TestUsers is the contract of ports.Users.
func TestUsers(t *testing.T, s ports.Users) {
	ctx := context.Background()
	if _, err := s.Get(ctx, "derick"); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("Get unknown: %v", err)
	}
	derick := ports.User{Username: "derick", Client: "UnicornStore", Role: ports.RoleCustomer, PasswordHash: "$argon2id$x", CreatedAt: t0}
	for _, u := range []ports.User{derick,
		{Username: "ann", Client: "UnicornStore", Role: ports.RoleAdmin, PasswordHash: "h", CreatedAt: t0},
		{Username: "zed", Client: "Other", Role: ports.RoleMarketer, PasswordHash: "h", CreatedAt: t0}} {
		if err := s.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Create(ctx, derick); !errors.Is(err, ports.ErrConflict) {
		t.Errorf("Create twice: %v, want ErrConflict", err)
	}
	got, err := s.Get(ctx, "derick")
	if diff := cmp.Diff(derick, got); err != nil || diff != "" {
		t.Errorf("Get = %v (-want +got):\n%s", err, diff)
	}
	names := func(us []ports.User) (out []string) {
		for _, u := range us {
			out = append(out, u.Username)
		}
		return out
	}
	if us, err := s.List(ctx, "UnicornStore"); err != nil || !slices.Equal(names(us), []string{"ann", "derick"}) {
		t.Errorf("List(UnicornStore) = %v, %v", names(us), err)
	}
	if us, err := s.List(ctx, ""); err != nil || len(us) != 3 {
		t.Errorf("List() = %v, %v", names(us), err)
	}
	if err := s.SetPassword(ctx, "derick", "new"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, "derick"); got.PasswordHash != "new" {
		t.Errorf("hash after SetPassword = %q", got.PasswordHash)
	}
	if err := s.SetPassword(ctx, "nobody", "x"); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("SetPassword of nobody: %v", err)
	}
}

// TestAPIKeys is the contract of ports.APIKeys.
func TestAPIKeys(t *testing.T, s ports.APIKeys) {
	ctx := context.Background()
	k := ports.APIKey{ID: "k1", Client: "UnicornStore", Name: "till", Scopes: []string{"points:read", "points:write"}, SecretHash: "abc", CreatedAt: t0}
	if err := s.Create(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, k); !errors.Is(err, ports.ErrConflict) {
		t.Errorf("Create twice: %v", err)
	}
	s.Create(ctx, ports.APIKey{ID: "k2", Client: "UnicornStore", Scopes: []string{"points:read"}, SecretHash: "def", CreatedAt: t0.Add(time.Hour)})
	s.Create(ctx, ports.APIKey{ID: "k3", Client: "Other", Scopes: []string{"points:read"}, SecretHash: "ghi", CreatedAt: t0})
	got, err := s.Get(ctx, "k1")
	if diff := cmp.Diff(k, got); err != nil || diff != "" {
		t.Errorf("Get = %v (-want +got):\n%s", err, diff)
	}
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("Get unknown: %v", err)
	}
	if list, err := s.List(ctx, "UnicornStore"); err != nil || len(list) != 2 || list[0].ID != "k2" {
		t.Errorf("List = %v, %v; want k2 then k1", list, err)
	}
	if list, _ := s.List(ctx, ""); len(list) != 3 {
		t.Errorf("List() has %d keys", len(list))
	}
	if err := s.Used(ctx, "k1", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{t0.Add(2 * time.Minute), t0.Add(3 * time.Minute)} {
		if err := s.Revoke(ctx, "k1", at); err != nil {
			t.Fatal(err)
		}
	}
	got, _ = s.Get(ctx, "k1")
	if !got.LastUsedAt.Equal(t0.Add(time.Minute)) || !got.RevokedAt.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("after Used and two Revokes: used %v, revoked %v", got.LastUsedAt, got.RevokedAt)
	}
	if err := s.Revoke(ctx, "nope", t0); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("Revoke unknown: %v", err)
	}
}

// TestSessions is the contract of ports.Sessions.
func TestSessions(t *testing.T, s ports.Sessions) {
	ctx := context.Background()
	x := ports.Session{ID: "s1", Username: "derick", RefreshHash: "h1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := s.Create(ctx, x); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, x); !errors.Is(err, ports.ErrConflict) {
		t.Errorf("Create twice: %v", err)
	}
	if got, err := s.Get(ctx, "s1"); err != nil || cmp.Diff(x, got) != "" {
		t.Errorf("Get = %+v, %v", got, err)
	}
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("Get unknown: %v", err)
	}
	// Ten concurrent rotations of the same token: one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range 10 {
		wg.Go(func() {
			err := s.Rotate(ctx, "s1", "h1", fmt.Sprint("h2-", i), t0.Add(2*time.Hour))
			switch {
			case err == nil:
				mu.Lock()
				won++
				mu.Unlock()
			case !errors.Is(err, ports.ErrConflict):
				t.Errorf("rotate %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	got, _ := s.Get(ctx, "s1")
	if won != 1 || got.RefreshHash == "h1" || !got.ExpiresAt.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("%d rotations won; session %+v", won, got)
	}
	for _, at := range []time.Time{t0.Add(time.Minute), t0.Add(2 * time.Minute)} {
		if err := s.Revoke(ctx, "s1", at); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := s.Get(ctx, "s1"); !got.RevokedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("revoked at %v, want the first revocation", got.RevokedAt)
	}
	if err := s.Rotate(ctx, "s1", got.RefreshHash, "h3", t0); !errors.Is(err, ports.ErrConflict) {
		t.Errorf("Rotate of a revoked session: %v", err)
	}
	if err := s.Revoke(ctx, "nope", t0); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("Revoke unknown: %v", err)
	}
}

// TestThrottle is the contract of ports.Throttle.
func TestThrottle(t *testing.T, s ports.Throttle) {
	ctx := context.Background()
	for i := range 4 {
		if err := s.Fail(ctx, "user:derick", t0.Add(time.Duration(i)*time.Minute), t0.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	s.Fail(ctx, "addr:10.0.0.1", t0, t0.Add(-time.Hour))
	got, err := s.Failures(ctx, "user:derick", t0.Add(time.Minute))
	want := []time.Time{t0.Add(time.Minute), t0.Add(2 * time.Minute), t0.Add(3 * time.Minute)}
	if err != nil || !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Errorf("Failures since t0+1m = %v, %v; want %v", got, err, want)
	}
	// A failure forgets those before its window.
	s.Fail(ctx, "user:derick", t0.Add(4*time.Minute), t0.Add(3*time.Minute))
	if got, _ := s.Failures(ctx, "user:derick", t0.Add(-time.Hour)); len(got) != 2 {
		t.Errorf("after forgetting: %v, want 2 failures", got)
	}
	if err := s.Clear(ctx, "user:derick"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Failures(ctx, "user:derick", t0.Add(-time.Hour)); len(got) != 0 {
		t.Errorf("after Clear: %v", got)
	}
	if got, _ := s.Failures(ctx, "addr:10.0.0.1", t0.Add(-time.Hour)); len(got) != 1 {
		t.Errorf("another key was cleared: %v", got)
	}
}

// TestAccounts is the contract of ports.Accounts.
func TestAccounts(t *testing.T, s ports.Accounts) {
	ctx := context.Background()
	if _, err := s.Owner(ctx, "1234"); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("Owner of an unclaimed account: %v", err)
	}
	var wg sync.WaitGroup
	owners := make([]string, 10)
	for i := range owners {
		wg.Go(func() {
			var err error
			if owners[i], err = s.Claim(ctx, "1234", fmt.Sprint("client-", i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	first := owners[0]
	for _, o := range owners {
		if o != first {
			t.Fatalf("concurrent claims disagree: %v", owners)
		}
	}
	if got, err := s.Owner(ctx, "1234"); err != nil || got != first {
		t.Errorf("Owner = %q, %v; want %q", got, err, first)
	}
}

// TestSecrets is the contract of ports.Secrets.
func TestSecrets(t *testing.T, s ports.Secrets) {
	ctx := context.Background()
	var wg sync.WaitGroup
	values := make([]string, 10)
	for i := range values {
		wg.Go(func() {
			v, err := s.Secret(ctx, "signing-key", func() ([]byte, error) { return fmt.Appendf(nil, "key-%d", i), nil })
			if err != nil {
				t.Error(err)
			}
			values[i] = string(v)
		})
	}
	wg.Wait()
	for _, v := range values {
		if v != values[0] || v == "" {
			t.Fatalf("concurrent first calls disagree: %v", values)
		}
	}
	again, err := s.Secret(ctx, "signing-key", func() ([]byte, error) { return nil, errors.New("must not be called") })
	if err != nil || string(again) != values[0] {
		t.Errorf("Secret again = %q, %v", again, err)
	}
	if _, err := s.Secret(ctx, "other", func() ([]byte, error) { return nil, errors.New("no entropy") }); err == nil {
		t.Error("a failing create was not reported")
	}
}
