package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/domains/identity"
	"github.com/unicornstore/unicorn/ports"
)

// TestConcurrentWrongPasswordsAreCounted: forty wrong passwords for one
// user at once from one address. Each attempt takes its slot before its
// password is checked, so five are checked (401) and the others refused
// unchecked (429 with Retry-After), instead of all forty holding a
// password hash's memory at once.
func TestConcurrentWrongPasswordsAreCounted(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	a.user("derick", ports.RoleCustomer, "UnicornStore")
	statuses := make([]int, 40)
	retry := make([]string, 40)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			resp, err := http.Post(a.srv.URL+"/auth/token", "application/json", strings.NewReader(`{"username":"derick","password":"guess-guess-guess"}`))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i], retry[i] = resp.StatusCode, resp.Header.Get("Retry-After")
		})
	}
	wg.Wait()
	count := map[int]int{}
	for i, status := range statuses {
		count[status]++
		if status == 429 {
			if wait, err := strconv.Atoi(retry[i]); err != nil || wait < 14*60 || wait > 15*60 {
				t.Errorf("Retry-After %q, want about 15 minutes", retry[i])
			}
		}
	}
	if count[401] != 5 || count[429] != 35 {
		t.Errorf("statuses %v: want 5 checked (401) and 35 refused (429)", count)
	}
}

// TestSignInFromElsewhereDoesNotLockOut: wrong passwords for derick from
// other addresses (one at a time or spread over many) never refuse derick
// at the address he signed in from; they do refuse new addresses once
// the username's count for them is full.
func TestSignInFromElsewhereDoesNotLockOut(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	a.user("derick", ports.RoleCustomer, "UnicornStore") // signs in from 127.0.0.1: known from now on
	ctx := context.Background()
	right := fmt.Sprintf(`{"username":"derick","password":%q}`, testPassword)
	throttled := func(err error, reason string) bool {
		var te *identity.ThrottledError
		return errors.As(err, &te) && strings.Contains(te.Error(), reason) && te.RetryAfter > 0
	}

	// From one other address: its pair count locks that address only.
	for range 5 {
		if _, err := a.identity.SignIn(ctx, "derick", "guess-guess-guess", "198.51.100.7"); !errors.Is(err, identity.ErrBadCredentials) {
			t.Fatalf("a wrong password from 198.51.100.7: %v", err)
		}
	}
	if _, err := a.identity.SignIn(ctx, "derick", testPassword, "198.51.100.7"); !throttled(err, "for this account from this address") {
		t.Errorf("the sixth attempt from 198.51.100.7: %v, want refused", err)
	}
	a.must(200, "POST", "/auth/token", right, "Authorization", "")

	// Spread over many addresses: the username's count for new addresses
	// fills (10, the first 5 above among them), then refuses any new address,
	// even with the right password; derick's own address still signs in.
	for i := range 5 {
		if _, err := a.identity.SignIn(ctx, "derick", "guess-guess-guess", fmt.Sprint("203.0.113.", i)); !errors.Is(err, identity.ErrBadCredentials) {
			t.Fatalf("a wrong password from 203.0.113.%d: %v", i, err)
		}
	}
	if _, err := a.identity.SignIn(ctx, "derick", testPassword, "192.0.2.1"); !throttled(err, "addresses it has not signed in from") {
		t.Errorf("a right password from a new address after 10 failures from new addresses: %v, want refused", err)
	}
	for range 3 {
		a.must(200, "POST", "/auth/token", right, "Authorization", "")
	}
	// A mistyped password at home counts only there.
	a.must(401, "POST", "/auth/token", `{"username":"derick","password":"mistyped-password"}`, "Authorization", "")
	a.must(200, "POST", "/auth/token", right, "Authorization", "")

	// The window passes: new addresses may try again.
	a.clock.Advance(15*time.Minute + time.Second)
	if _, err := a.identity.SignIn(ctx, "derick", testPassword, "192.0.2.1"); err != nil {
		t.Errorf("a right password from a new address after the window: %v", err)
	}
}

// TestSignInAddressesAreCountedByHost: an IPv6 host holds a whole /64 and
// an IPv4 address may arrive IPv4-mapped; neither starts a fresh count.
func TestSignInAddressesAreCountedByHost(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	ctx := context.Background()
	for i := range 20 {
		if _, err := a.identity.SignIn(ctx, fmt.Sprint("user-", i), "guess-guess-guess", fmt.Sprintf("2001:db8:1:2::%x", i+1)); !errors.Is(err, identity.ErrBadCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	var te *identity.ThrottledError
	if _, err := a.identity.SignIn(ctx, "boss", testPassword, "2001:db8:1:2:ffff::9"); !errors.As(err, &te) || !strings.Contains(te.Error(), "from this address") {
		t.Errorf("after 20 failures from one /64, another address in it: %v, want refused", err)
	}
	if _, err := a.identity.SignIn(ctx, "boss", testPassword, "2001:db8:1:3::1"); err != nil {
		t.Errorf("the next /64: %v", err)
	}
	for range 5 {
		a.identity.SignIn(ctx, "boss", "guess-guess-guess", "10.1.1.1")
	}
	if _, err := a.identity.SignIn(ctx, "boss", testPassword, "::ffff:10.1.1.1"); !errors.As(err, &te) {
		t.Errorf("10.1.1.1, IPv4-mapped, after 5 failures as 10.1.1.1: %v, want refused", err)
	}
}

// TestSignInRefusesImpossibleUsernames: a username no user can have is a
// 400 and is not recorded: thirty of them (100 KB each) do not throttle
// the address.
func TestSignInRefusesImpossibleUsernames(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	for _, name := range []string{strings.Repeat("x", 100_000), strings.Repeat("x", 129), "a b", "dérick"} {
		body, _ := json.Marshal(map[string]string{"username": name, "password": "guess-guess-guess"})
		for range 30 / 4 {
			r := a.do("POST", "/auth/token", string(body), "Authorization", "")
			if r.status != 400 || !strings.Contains(string(r.body), "username") {
				t.Fatalf("username of %d bytes: %d %s", len(name), r.status, r.body)
			}
		}
	}
	long, _ := json.Marshal(map[string]string{"username": "boss", "password": strings.Repeat("p", 1025)})
	a.must(400, "POST", "/auth/token", string(long), "Authorization", "")
	a.must(200, "POST", "/auth/token", fmt.Sprintf(`{"username":"boss","password":%q}`, testPassword), "Authorization", "")
}

// TestRefreshWithAWrongSecretChangesNothing: the session id is in every
// access token, so a refresh token made of it and a guessed secret must
// change nothing; a refresh token that was traded already still ends the
// session when it comes back.
func TestRefreshWithAWrongSecretChangesNothing(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	a.user("derick", ports.RoleCustomer, "UnicornStore")
	first := a.must(200, "POST", "/auth/token", fmt.Sprintf(`{"username":"derick","password":%q}`, testPassword), "Authorization", "")
	bearer := func(m map[string]any) string { return "Bearer " + m["access_token"].(string) }
	sid := sessionID(t, first["access_token"].(string))
	if !strings.HasPrefix(first["refresh_token"].(string), sid+".") {
		t.Fatalf("the access token's sid %q is not the refresh token's", sid)
	}
	for _, guess := range []string{sid + ".x", sid + "." + strings.Repeat("A", 43), sid + "." + strings.Repeat("x", 200)} {
		a.must(401, "POST", "/auth/refresh", fmt.Sprintf(`{"refresh_token":%q}`, guess), "Authorization", "")
		if r := a.do("POST", "/auth/logout", fmt.Sprintf(`{"refresh_token":%q}`, guess), "Authorization", ""); r.status != 204 {
			t.Errorf("logout with a guessed secret: %d %s", r.status, r.body)
		}
	}
	a.must(200, "GET", "/auth/me", "", "Authorization", bearer(first))
	second := a.must(200, "POST", "/auth/refresh", fmt.Sprintf(`{"refresh_token":%q}`, first["refresh_token"]), "Authorization", "")
	third := a.must(200, "POST", "/auth/refresh", fmt.Sprintf(`{"refresh_token":%q}`, second["refresh_token"]), "Authorization", "")
	a.must(401, "POST", "/auth/refresh", fmt.Sprintf(`{"refresh_token":%q}`, sid+".wrong"), "Authorization", "")
	a.must(200, "GET", "/auth/me", "", "Authorization", bearer(third))

	// The first refresh token, traded two rotations ago, comes back: it
	// was copied, and the session ends for everyone.
	a.must(401, "POST", "/auth/refresh", fmt.Sprintf(`{"refresh_token":%q}`, first["refresh_token"]), "Authorization", "")
	a.must(401, "GET", "/auth/me", "", "Authorization", bearer(third))
	a.must(401, "POST", "/auth/refresh", fmt.Sprintf(`{"refresh_token":%q}`, third["refresh_token"]), "Authorization", "")
}

// sessionID reads the sid claim of an access token, as anyone holding it
// can.
func sessionID(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.SID == "" {
		t.Fatalf("claims %s: %v", payload, err)
	}
	return claims.SID
}

// TestUsernamesAreUniqueRegardlessOfCase: an admin cannot create Derick
// while derick exists; signing in stays exact.
func TestUsernamesAreUniqueRegardlessOfCase(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	a.user("derick", ports.RoleCustomer, "UnicornStore")
	for _, name := range []string{"Derick", "DERICK"} {
		r := a.do("POST", "/users", fmt.Sprintf(`{"username":%q,"role":"customer","password":%q}`, name, testPassword))
		if r.status != 409 {
			t.Errorf("create %s while derick exists: %d %s, want 409", name, r.status, r.body)
		}
	}
	a.must(401, "POST", "/auth/token", fmt.Sprintf(`{"username":"Derick","password":%q}`, testPassword), "Authorization", "")
	a.must(200, "POST", "/auth/token", fmt.Sprintf(`{"username":"derick","password":%q}`, testPassword), "Authorization", "")
}
