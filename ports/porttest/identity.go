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
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/unicornstore/unicorn/ports"
)

// People are the people TestPeople expects to find: a customer of
// UnicornStore (derick), its admin (ann), and a marketer of Other (zed).
var People = []ports.User{
	{Username: "ann", Client: "UnicornStore", Role: ports.RoleAdmin},
	{Username: "derick", Client: "UnicornStore", Role: ports.RoleCustomer},
	{Username: "zed", Client: "Other", Role: ports.RoleMarketer},
}

// TestPeople is the contract of ports.People, over a directory holding
// exactly People (the store's users, or a user pool's). Password hashes
// and creation times are the directory's own and are not compared.
func TestPeople(t *testing.T, p ports.People) {
	ctx := context.Background()
	who := cmp.Transformer("who", func(u ports.User) ports.User { return ports.User{Username: u.Username, Client: u.Client, Role: u.Role} })
	got, err := p.Get(ctx, "derick")
	if diff := cmp.Diff(People[1], got, who); err != nil || diff != "" {
		t.Errorf("Get(derick) = %v (-want +got):\n%s", err, diff)
	}
	for _, name := range []string{"nobody", "Derick", "DERICK", ""} {
		if _, err := p.Get(ctx, name); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("Get(%q) = %v, want ErrNotFound (lookups are exact)", name, err)
		}
	}
	for client, want := range map[string][]ports.User{"UnicornStore": People[:2], "Other": People[2:], "": People, "Nobody": nil} {
		got, err := p.List(ctx, client)
		if diff := cmp.Diff(want, got, who, cmpopts.EquateEmpty()); err != nil || diff != "" {
			t.Errorf("List(%q) = %v (-want +got):\n%s", client, err, diff)
		}
	}
}

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
	t.Run("people", func(t *testing.T) { TestPeople(t, s) })
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

	// Usernames are unique regardless of case; lookups stay exact.
	for _, name := range []string{"Derick", "DERICK", "dErIcK"} {
		variant := derick
		variant.Username = name
		if err := s.Create(ctx, variant); !errors.Is(err, ports.ErrConflict) {
			t.Errorf("Create(%s) while derick exists: %v, want ErrConflict", name, err)
		}
		if _, err := s.Get(ctx, name); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("Get(%s) = %v, want ErrNotFound (lookups are exact)", name, err)
		}
	}
	// Concurrent creates of case variants of a new name: one wins.
	variants := []string{"mia", "Mia", "MIA", "mIa", "miA", "MIa", "mIA", "MiA"}
	errs := make([]error, len(variants))
	var wg sync.WaitGroup
	for i, name := range variants {
		wg.Go(func() {
			errs[i] = s.Create(ctx, ports.User{Username: name, Client: "UnicornStore", Role: ports.RoleCustomer, PasswordHash: "h", CreatedAt: t0})
		})
	}
	wg.Wait()
	var won []string
	for i, err := range errs {
		switch {
		case err == nil:
			won = append(won, variants[i])
		case !errors.Is(err, ports.ErrConflict):
			t.Errorf("Create(%s): %v", variants[i], err)
		}
	}
	if len(won) != 1 {
		t.Fatalf("concurrent case variants created: %v, want exactly one", won)
	}
	if _, err := s.Get(ctx, won[0]); err != nil {
		t.Errorf("Get(%s) of the winner: %v", won[0], err)
	}
	if us, err := s.List(ctx, "UnicornStore"); err != nil || !slices.Equal(names(us), slices.Sorted(slices.Values([]string{"ann", "derick", won[0]}))) {
		t.Errorf("List(UnicornStore) = %v, %v; want ann, derick and %s", names(us), err, won[0])
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
			next := x
			next.RefreshHash, next.PreviousHashes, next.ExpiresAt = fmt.Sprint("h2-", i), []string{"h0", "h1"}, t0.Add(2*time.Hour)
			err := s.Rotate(ctx, next, "h1")
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
	if won != 1 || got.RefreshHash == "h1" || !got.ExpiresAt.Equal(t0.Add(2*time.Hour)) || !slices.Equal(got.PreviousHashes, []string{"h0", "h1"}) {
		t.Errorf("%d rotations won; session %+v", won, got)
	}
	// A rotation replaces the previous hashes with the ones it is given.
	next := got
	next.RefreshHash, next.PreviousHashes = "h3", []string{"h1", got.RefreshHash}
	if err := s.Rotate(ctx, next, got.RefreshHash); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, "s1"); err != nil || cmp.Diff(next, got) != "" {
		t.Errorf("after the second rotation (-want +got): %v\n%s", err, cmp.Diff(next, got))
	}
	for _, at := range []time.Time{t0.Add(time.Minute), t0.Add(2 * time.Minute)} {
		if err := s.Revoke(ctx, "s1", at); err != nil {
			t.Fatal(err)
		}
	}
	got, _ = s.Get(ctx, "s1")
	if !got.RevokedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("revoked at %v, want the first revocation", got.RevokedAt)
	}
	next = got
	next.RefreshHash = "h4"
	if err := s.Rotate(ctx, next, got.RefreshHash); !errors.Is(err, ports.ErrConflict) {
		t.Errorf("Rotate of a revoked session: %v", err)
	}
	if err := s.Rotate(ctx, ports.Session{ID: "nope", RefreshHash: "x", ExpiresAt: t0}, "y"); !errors.Is(err, ports.ErrConflict) {
		t.Errorf("Rotate of an unknown session: %v", err)
	}
	if err := s.Revoke(ctx, "nope", t0); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("Revoke unknown: %v", err)
	}
}

// TestThrottle is the contract of ports.Throttle.
func TestThrottle(t *testing.T, s ports.Throttle) {
	ctx := context.Background()
	window := func(at time.Time) time.Time { return at.Add(-15 * time.Minute) }
	take := func(id string, at time.Time, keys ...ports.ThrottleKey) error {
		return s.Take(ctx, id, keys, at, window(at))
	}
	full := func(err error) *ports.ThrottleFullError {
		var f *ports.ThrottleFullError
		errors.As(err, &f)
		return f
	}
	pair, addr := ports.ThrottleKey{Key: "pair:derick|10.0.0.1", Limit: 3}, ports.ThrottleKey{Key: "addr:10.0.0.1", Limit: 5}
	for i := range 3 {
		if err := take(fmt.Sprint("a", i), t0.Add(time.Duration(i)*time.Minute), pair, addr); err != nil {
			t.Fatalf("take %d: %v", i, err)
		}
	}
	err := take("a3", t0.Add(3*time.Minute), pair, addr)
	want := []time.Time{t0, t0.Add(time.Minute), t0.Add(2 * time.Minute)}
	if f := full(err); f == nil || f.Key != pair.Key || !slices.EqualFunc(f.Attempts, want, time.Time.Equal) {
		t.Fatalf("a fourth attempt under a limit of 3: %v (%+v), want the pair full with %v", err, f, want)
	}
	// All or none: the refused attempt took no slot under the address,
	// which has room for exactly two more.
	for i := range 2 {
		if err := take(fmt.Sprint("b", i), t0.Add(3*time.Minute), addr); err != nil {
			t.Fatalf("address attempt %d: %v", i, err)
		}
	}
	if f := full(take("b2", t0.Add(3*time.Minute), addr)); f == nil || f.Key != addr.Key || len(f.Attempts) != 5 {
		t.Errorf("the address after 5 attempts: %+v", f)
	}
	// The window slides: once the oldest attempt is out of it, there is
	// room for one more.
	later := t0.Add(15*time.Minute + time.Second)
	if err := take("a4", later, pair); err != nil {
		t.Errorf("when the oldest attempt left the window: %v", err)
	}
	if f := full(take("a5", later, pair)); f == nil || len(f.Attempts) != 3 || !f.Attempts[0].Equal(t0.Add(time.Minute)) {
		t.Errorf("the window after it slid: %+v", f)
	}
	// Release frees the slot of one attempt, only under the keys named.
	if err := s.Release(ctx, "a4", []string{pair.Key}); err != nil {
		t.Fatal(err)
	}
	if err := take("a6", later, pair); err != nil {
		t.Errorf("after a release: %v", err)
	}
	if err := s.Release(ctx, "never-taken", []string{pair.Key, "unknown-key"}); err != nil {
		t.Errorf("releasing what was never taken: %v", err)
	}
	// Clear forgets one key's attempts only.
	if err := s.Clear(ctx, pair.Key); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := take(fmt.Sprint("c", i), t0.Add(16*time.Minute), pair); err != nil {
			t.Errorf("after Clear, attempt %d: %v", i, err)
		}
	}
	// The address still holds a1, a2, b0 and b1 in this window.
	if f := full(take("b3", t0.Add(16*time.Minute), ports.ThrottleKey{Key: addr.Key, Limit: 4})); f == nil || len(f.Attempts) != 4 {
		t.Errorf("Clear of the pair changed the address's attempts: %+v", f)
	}

	// Forty concurrent attempts under a limit of 5: five get a slot.
	hot := []ports.ThrottleKey{{Key: "pair:ann|10.0.0.2", Limit: 5}, {Key: "addr:10.0.0.2", Limit: 20}}
	results := make([]error, 40)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() { results[i] = take(fmt.Sprint("hot-", i), t0, hot...) })
	}
	wg.Wait()
	taken := 0
	for i, err := range results {
		switch f := full(err); {
		case err == nil:
			taken++
		case f == nil:
			t.Errorf("attempt %d: %v", i, err)
		case f.Key != hot[0].Key || len(f.Attempts) != 5:
			t.Errorf("attempt %d refused with %+v, want the pair full with 5", i, f)
		}
	}
	if taken != 5 {
		t.Errorf("%d of 40 concurrent attempts took a slot, want 5", taken)
	}

	// Known addresses.
	if known, err := s.Known(ctx, "derick", "10.0.0.1", t0); err != nil || known {
		t.Errorf("Known before any sign-in = %v, %v", known, err)
	}
	if err := s.Remember(ctx, "derick", "10.0.0.1", t0, t0.Add(30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Remember(ctx, "derick", "2001:db8::/64", t0, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		username, address string
		at                time.Time
		want              bool
	}{
		{"derick", "10.0.0.1", t0.Add(29 * 24 * time.Hour), true},
		{"derick", "10.0.0.1", t0.Add(30 * 24 * time.Hour), false},
		{"derick", "10.0.0.2", t0, false},
		{"Derick", "10.0.0.1", t0, false},
		{"ann", "10.0.0.1", t0, false},
		{"derick", "2001:db8::/64", t0.Add(time.Minute), true},
	} {
		if got, err := s.Known(ctx, tt.username, tt.address, tt.at); err != nil || got != tt.want {
			t.Errorf("Known(%s, %s, %v) = %v, %v; want %v", tt.username, tt.address, tt.at, got, err, tt.want)
		}
	}
	// Remembering again moves the end forward.
	if err := s.Remember(ctx, "derick", "2001:db8::/64", t0.Add(time.Minute), t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Known(ctx, "derick", "2001:db8::/64", t0.Add(90*time.Minute)); err != nil || !got {
		t.Errorf("Known after remembering again = %v, %v", got, err)
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
