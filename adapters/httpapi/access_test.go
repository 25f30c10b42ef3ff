package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/adapters/httpapi"
	"github.com/unicornstore/unicorn/ports"
)

// The principals of the access matrix. Every request of the matrix is
// about derick's things: his account, wallet and order, and UnicornStore's
// campaigns and catalog.
const (
	anonymous  = "anonymous"
	derick     = "derick (customer, himself)"
	ann        = "ann (another customer)"
	mia        = "mia (marketer)"
	boss       = "boss (admin)"
	olga       = "olga (admin of another client)"
	keyRead    = "key points:read"
	keyWrite   = "key points:write"
	otherKey   = "key of another client, both scopes"
	everyone   = "*"
	signedInAs = "*signed-in"
)

var principals = []string{anonymous, derick, ann, mia, boss, olga, keyRead, keyWrite, otherKey}

// matrix is, for every route, a request and who may make it. A route
// missing here fails the test: adding a route means deciding who may call
// it.
var matrix = map[string]struct {
	path, body string
	allowed    []string
}{
	"GET /{$}":                   {"/", "", []string{everyone}},
	"GET /assets/":               {"/assets/app-abc.js", "", []string{everyone}},
	"GET /favicon.svg":           {"/favicon.svg", "", []string{everyone}},
	"GET /healthz":               {"/healthz", "", []string{everyone}},
	"GET /settings":              {"/settings", "", []string{everyone}},
	"GET /.well-known/jwks.json": {"/.well-known/jwks.json", "", []string{everyone}},
	"GET /openapi.json":          {"/openapi.json", "", []string{everyone}},
	"POST /auth/token":           {"/auth/token", `{}`, []string{everyone}},
	"POST /auth/refresh":         {"/auth/refresh", `{}`, []string{everyone}},
	"POST /auth/logout":          {"/auth/logout", `{"refresh_token":"someone.else"}`, []string{everyone}},
	"GET /auth/me":               {"/auth/me", "", []string{signedInAs}},
	"GET /users":                 {"/users", "", []string{boss, olga}},
	"POST /users":                {"/users", `{}`, []string{boss, olga}},
	// Another client's admin and programs reach their own client's
	// "derick", never the store's (TestClientsReachOnlyTheirOwnAccounts).
	"POST /points":                            {"/points", `{"account_id":"derick","amount":1}`, []string{boss, olga, keyWrite, otherKey}},
	"DELETE /points":                          {"/points", `{"account_id":"derick","amount":1}`, []string{derick, boss, olga, keyWrite, otherKey}},
	"GET /points":                             {"/points?account_id=derick", "", []string{derick, boss, olga, keyRead, otherKey}},
	"GET /points/transactions":                {"/points/transactions?account_id=derick", "", []string{derick, boss, olga, keyRead, otherKey}},
	"POST /points/awards":                     {"/points/awards", `{"client":"UnicornStore","username":"derick","order_id":"m1","amount":10}`, []string{boss, keyWrite}},
	"GET /campaigns":                          {"/campaigns?client=UnicornStore", "", []string{mia, boss}},
	"POST /campaigns":                         {"/campaigns", `{"client":"UnicornStore","campaign_name":"x","rules":[]}`, []string{mia, boss}},
	"POST /campaigns/validate":                {"/campaigns/validate", `{"client":"UnicornStore","campaign_name":"x","rules":[]}`, []string{mia, boss}},
	"POST /campaigns/simulate":                {"/campaigns/simulate", `{"client":"UnicornStore","event":{"amount":1}}`, []string{mia, boss}},
	"POST /campaigns/backtest":                {"/campaigns/backtest", `{"client":"UnicornStore","days":1,"campaign_name":"1"}`, []string{mia, boss}},
	"GET /campaigns/{name}":                   {"/campaigns/1?client=UnicornStore", "", []string{mia, boss}},
	"PATCH /campaigns/{name}":                 {"/campaigns/1?client=UnicornStore", `{}`, []string{mia, boss}},
	"DELETE /campaigns/{name}":                {"/campaigns/nope?client=UnicornStore", "", []string{mia, boss}},
	"GET /products":                           {"/products", "", []string{everyone}},
	"GET /products/{id}":                      {"/products/1", "", []string{everyone}},
	"POST /products":                          {"/products", `{}`, []string{boss}},
	"PUT /products/{id}":                      {"/products/1", `{}`, []string{boss}},
	"DELETE /products/{id}":                   {"/products/nope", "", []string{boss}},
	"POST /products/{id}/stock":               {"/products/nope/stock", `{"delta":1}`, []string{boss}},
	"GET /images/":                            {"/images/unicorn-air.svg", "", []string{everyone}},
	"GET /users/{first}/{second}":             {"/users/derick/wallet", "", []string{derick, boss}},
	"POST /users/{username}/wallet/deposits":  {"/users/derick/wallet/deposits", `{"amount":1}`, []string{boss}},
	"POST /purchase":                          {"/purchase", `{"user_id":"derick","items":[{"product_id":"nope","quantity":1}]}`, []string{derick, boss}},
	"GET /orders":                             {"/orders?user_id=derick", "", []string{derick, boss}},
	"GET /orders/{id}":                        {"/orders/o-derick", "", []string{derick, boss}},
	"POST /orders/{id}/retry":                 {"/orders/o-derick/retry", "", []string{boss}},
	"POST /orders/{id}/returns":               {"/orders/o-derick/returns", `{}`, []string{derick, boss}},
	"GET /analytics/products":                 {"/analytics/products", "", []string{mia, boss}},
	"GET /analytics/campaigns":                {"/analytics/campaigns?client=UnicornStore", "", []string{mia, boss}},
	"GET /campaigns/{name}/versions":          {"/campaigns/1/versions?client=UnicornStore", "", []string{mia, boss}},
	"GET /points-ceiling":                     {"/points-ceiling?client=UnicornStore", "", []string{boss}},
	"GET /tiers":                              {"/tiers?client=UnicornStore", "", []string{mia, boss}},
	"POST /webhooks/endpoints":                {"/webhooks/endpoints", `{}`, []string{boss, olga}},
	"GET /webhooks/endpoints":                 {"/webhooks/endpoints", "", []string{boss, olga}},
	"DELETE /webhooks/endpoints/{id}":         {"/webhooks/endpoints/nope", "", []string{boss, olga}},
	"POST /webhooks/endpoints/{id}/secret":    {"/webhooks/endpoints/nope/secret", "", []string{boss, olga}},
	"GET /webhooks/deliveries":                {"/webhooks/deliveries", "", []string{boss, olga}},
	"POST /webhooks/deliveries/{id}/replay":   {"/webhooks/deliveries/nope/replay", "", []string{boss, olga}},
	"PUT /tiers":                              {"/tiers?client=UnicornStore", `{"tiers":[]}`, []string{boss}},
	"GET /points/tier":                        {"/points/tier?account_id=derick", "", []string{derick, boss, olga, keyRead, otherKey}},
	"PUT /points-ceiling":                     {"/points-ceiling?client=UnicornStore", `{"points_per_amount":1}`, []string{boss}},
	"POST /points/transactions/{id}/reversal": {"/points/transactions/nope/reversal", `{"account_id":"derick"}`, []string{boss, olga, keyWrite, otherKey}},
}

// access is a store with one principal of each kind.
type access struct {
	*api
	auth map[string]string
}

func newAccess(t *testing.T) *access {
	a := newAPI(t, 365)
	x := &access{api: a, auth: map[string]string{anonymous: ""}}
	x.auth[derick] = a.user("derick", ports.RoleCustomer, "UnicornStore")
	x.auth[ann] = a.user("ann", ports.RoleCustomer, "UnicornStore")
	x.auth[mia] = a.user("mia", ports.RoleMarketer, "UnicornStore")
	x.auth[boss] = a.auth
	x.auth[olga] = a.user("olga", ports.RoleAdmin, "Other")
	x.auth[keyRead] = a.apiKey("points:read")
	x.auth[keyWrite] = a.apiKey("points:write")
	x.auth[otherKey] = a.clientKey("Other", "points:read", "points:write")
	ctx := context.Background()
	a.must(201, "POST", "/campaigns", seedCampaign)
	now := a.clock.Now()
	if _, _, err := a.db.Orders().Create(ctx, ports.Order{ID: "o-derick", UserID: "derick", Client: "UnicornStore", Status: ports.OrderPending,
		Attempt: 1, Total: decimal.NewFromInt(1), Charged: decimal.NewFromInt(1), CreatedAt: now, UpdatedAt: now, Version: 1}); err != nil {
		t.Fatal(err)
	}
	if err := a.db.Catalog().Save(ctx, ports.Product{ID: "1", Name: "Unicorn", Price: decimal.NewFromInt(1), Stock: 1, Version: 1, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	return x
}

func (x *access) as(who, method, path, body string, header ...string) response {
	x.t.Helper()
	return x.do(method, path, body, append([]string{"Authorization", x.auth[who]}, header...)...)
}

func denied(r response) bool {
	return r.status == http.StatusUnauthorized || r.status == http.StatusForbidden
}

// TestAccessMatrix walks every route with every kind of principal: allowed
// calls pass the guard (whatever their handler answers), the others are 401
// without credentials and 403 with the wrong ones, as problem+json.
func TestAccessMatrix(t *testing.T) {
	t.Parallel()
	x := newAccess(t)
	routes := httpapi.Routes()
	for pattern := range matrix {
		if !slices.Contains(routes, pattern) {
			t.Errorf("the matrix lists %q, which is not a route", pattern)
		}
	}
	for _, pattern := range routes {
		m, ok := matrix[pattern]
		if !ok {
			t.Errorf("route %q is not in the access matrix: decide who may call it", pattern)
			continue
		}
		method := strings.Fields(pattern)[0]
		for _, who := range principals {
			want := slices.Contains(m.allowed, everyone) || slices.Contains(m.allowed, who) ||
				slices.Contains(m.allowed, signedInAs) && who != anonymous
			r := x.as(who, method, m.path, m.body)
			if got := !denied(r); got != want {
				t.Errorf("%s %s as %s: %d, want allowed=%v\n%s", method, m.path, who, r.status, want, r.body)
				continue
			}
			if !want {
				wantStatus := http.StatusForbidden
				if who == anonymous {
					wantStatus = http.StatusUnauthorized
				}
				if r.status != wantStatus || r.header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("%s %s as %s: %d %s, want %d problem+json", method, m.path, who, r.status, r.header.Get("Content-Type"), wantStatus)
				}
				if r.status == http.StatusUnauthorized && r.header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s %s: a 401 without WWW-Authenticate", method, m.path)
				}
			}
		}
	}
}

// TestCustomersReachOnlyTheirOwn: through HTTP, ann cannot read derick's
// points or wallet, redeem from him or buy for him, whatever the body's
// spelling; with her own account each works.
func TestCustomersReachOnlyTheirOwn(t *testing.T) {
	t.Parallel()
	x := newAccess(t)
	x.must(201, "POST", "/points", `{"account_id":"derick","amount":100}`)
	x.must(201, "POST", "/points", `{"account_id":"ann","amount":100}`)
	for _, tt := range []struct{ method, path, body string }{
		{"GET", "/points?account_id=derick", ""},
		{"GET", "/points/transactions?account_id=derick", ""},
		{"GET", "/users/derick/wallet", ""},
		{"GET", "/users/balance/derick", ""},
		{"GET", "/orders?user_id=derick", ""},
		{"GET", "/orders/o-derick", ""},
		{"DELETE", "/points", `{"account_id":"derick","amount":10}`},
		{"DELETE", "/points", `{"account_id":"ann","ACCOUNT_ID":"derick","amount":10}`}, // the handler reads the last, derick
		{"DELETE", "/points", `{"account_id":"ann","account_id":"derick","amount":10}`},
		{"DELETE", "/points", `{"amount":10}`},
		{"POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"1","quantity":1}]}`},
		{"POST", "/purchase", `{"userId":"derick","productId":"1"}`},
		{"POST", "/purchase", `{"user_id":"ann","USER_ID":"derick","items":[{"product_id":"1","quantity":1}]}`},
		{"GET", "/orders?status=needs_attention", ""},
		{"GET", "/orders", ""}, // every customer's
	} {
		if r := x.as(ann, tt.method, tt.path, tt.body); r.status != http.StatusForbidden {
			t.Errorf("ann: %s %s %s: %d, want 403\n%s", tt.method, tt.path, tt.body, r.status, r.body)
		}
	}
	if b := x.as(derick, "GET", "/points?account_id=derick", "").json(t); num(b["balance"]) != 100 {
		t.Errorf("derick's points = %v", b)
	}
	if r := x.as(ann, "DELETE", "/points", `{"account_id":"ann","amount":10}`); r.status != 200 {
		t.Errorf("ann redeeming her own: %d %s", r.status, r.body)
	}
	if b := x.as(derick, "GET", "/points?account_id=derick", "").json(t); num(b["balance"]) != 100 {
		t.Errorf("derick lost points to ann's requests: %v", b)
	}
}

// TestTokens: expired, signed-out and refreshed tokens over HTTP.
func TestTokens(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	a.user("derick", ports.RoleCustomer, "UnicornStore")
	signIn := func() map[string]any {
		return a.must(200, "POST", "/auth/token", fmt.Sprintf(`{"username":"derick","password":%q}`, testPassword), "Authorization", "")
	}
	first := signIn()
	if first["token_type"] != "Bearer" || num(first["expires_in"]) <= 0 || first["user"].(map[string]any)["role"] != "customer" {
		t.Errorf("sign-in = %v", first)
	}
	bearer := func(m map[string]any) string { return "Bearer " + m["access_token"].(string) }
	me := a.must(200, "GET", "/auth/me", "", "Authorization", bearer(first))
	if me["subject"] != "derick" || me["role"] != "customer" || me["client"] != "UnicornStore" {
		t.Errorf("me = %v", me)
	}

	// Refresh: new tokens; the old refresh token then works no more, and
	// using it again ends the session (it was copied).
	second := a.must(200, "POST", "/auth/refresh", fmt.Sprintf(`{"refresh_token":%q}`, first["refresh_token"]), "Authorization", "")
	a.must(200, "GET", "/auth/me", "", "Authorization", bearer(second))
	a.must(401, "POST", "/auth/refresh", fmt.Sprintf(`{"refresh_token":%q}`, first["refresh_token"]), "Authorization", "")
	a.must(401, "GET", "/auth/me", "", "Authorization", bearer(second))
	a.must(401, "POST", "/auth/refresh", fmt.Sprintf(`{"refresh_token":%q}`, second["refresh_token"]), "Authorization", "")

	// Logout ends the session at once: its access token and refresh token.
	third := signIn()
	a.must(200, "GET", "/auth/me", "", "Authorization", bearer(third))
	if r := a.do("POST", "/auth/logout", "", "Authorization", bearer(third)); r.status != 204 {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	a.must(401, "GET", "/auth/me", "", "Authorization", bearer(third))
	a.must(401, "POST", "/auth/refresh", fmt.Sprintf(`{"refresh_token":%q}`, third["refresh_token"]), "Authorization", "")
	fourth := signIn()
	if r := a.do("POST", "/auth/logout", fmt.Sprintf(`{"refresh_token":%q}`, fourth["refresh_token"]), "Authorization", ""); r.status != 204 {
		t.Fatalf("logout with the refresh token: %d %s", r.status, r.body)
	}
	a.must(401, "GET", "/auth/me", "", "Authorization", bearer(fourth))

	// An access token expires (the harness signs them for an hour).
	fifth := signIn()
	a.clock.Advance(61 * time.Minute)
	r := a.do("GET", "/auth/me", "", "Authorization", bearer(fifth))
	if r.status != 401 || !strings.Contains(string(r.body), "expired") {
		t.Errorf("expired token: %d %s", r.status, r.body)
	}
	for _, h := range []string{"Basic ZGVyaWNrOnB3", "Bearer", "Bearer not.a.token", "Token abc"} {
		if r := a.do("GET", "/auth/me", "", "Authorization", h); r.status != 401 {
			t.Errorf("Authorization %q: %d", h, r.status)
		}
	}
	a.must(401, "POST", "/auth/token", `{"username":"derick","password":"wrong-password"}`, "Authorization", "")
	a.must(401, "POST", "/auth/token", `{"username":"nobody","password":"wrong-password"}`, "Authorization", "")
}

// TestAPIKeys: scopes are enforced, a revoked key stops at once, the last
// use is recorded, and seed 003's calls work with a key header added.
func TestAPIKeys(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	read, write := a.apiKey("points:read"), a.apiKey("points:read", "points:write")
	a.must(403, "POST", "/points", `{"account_id":"1234","amount":100}`, "Authorization", read)
	// Seed 003's calls, with the key as X-Api-Key.
	xkey := strings.TrimPrefix(write, "Bearer ")
	a.must(201, "POST", "/points", `{"account_id": "1234", "amount" : 100 }`, "Authorization", "", "X-Api-Key", xkey)
	a.must(200, "DELETE", "/points", `{"account_id": "1234", "amount" : 30 }`, "Authorization", "", "X-Api-Key", xkey)
	if b := a.must(200, "GET", "/points?account_id=1234", "", "Authorization", read); num(b["balance"]) != 70 {
		t.Errorf("balance = %v", b)
	}
	keys, err := a.identity.APIKeys(context.Background(), "UnicornStore")
	if err != nil {
		t.Fatal(err)
	}
	var writeID string
	for _, k := range keys {
		if strings.HasPrefix(xkey, "uk_"+k.ID+"_") {
			writeID = k.ID
			if !k.LastUsedAt.Equal(a.clock.Now()) {
				t.Errorf("last used = %v, want %v", k.LastUsedAt, a.clock.Now())
			}
		}
	}
	if err := a.identity.RevokeAPIKey(context.Background(), writeID); err != nil {
		t.Fatal(err)
	}
	a.must(401, "GET", "/points?account_id=1234", "", "Authorization", write)
	// A wrong secret for a real id, and a key of another client.
	a.must(401, "GET", "/points?account_id=1234", "", "Authorization", "Bearer uk_"+writeID+"_wrong")
}

// TestClientsReachOnlyTheirOwnAccounts: account ids and idempotency keys
// are scoped by the caller's client. Another client's admin and programs
// naming the store's "derick", or reusing the store's key, act on an
// account and a key of their own: the store's account is untouched and no
// answer tells them it exists. A refused or invalid request claims nothing.
func TestClientsReachOnlyTheirOwnAccounts(t *testing.T) {
	t.Parallel()
	x := newAccess(t)
	first := x.as(keyWrite, "POST", "/points", `{"account_id":"derick","amount":100}`, "Idempotency-Key", "k-1").json(t)
	if num(first["balance"]) != 100 {
		t.Fatalf("store's issue = %v", first)
	}
	fresh := x.as(otherKey, "GET", "/points?account_id=never-used", "").json(t)
	for _, who := range []string{otherKey, olga} {
		got := x.as(who, "GET", "/points?account_id=derick", "").json(t)
		delete(got, "account_id")
		delete(fresh, "account_id")
		if fmt.Sprint(got) != fmt.Sprint(fresh) {
			t.Errorf("%s reading derick: %v; want what a never-used account reads, %v", who, got, fresh)
		}
		if r := x.as(who, "DELETE", "/points", `{"account_id":"derick","amount":10}`); r.status != http.StatusConflict {
			t.Errorf("%s redeeming derick's points: %d %s; want 409 (its own derick has none)", who, r.status, r.body)
		}
		if r := x.as(who, "POST", fmt.Sprintf("/points/transactions/%s/reversal", first["id"]), `{"account_id":"derick"}`); r.status != http.StatusNotFound {
			t.Errorf("%s reversing the store's transaction: %d %s; want 404", who, r.status, r.body)
		}
	}
	// The same Idempotency-Key is the other client's own: a new issue, not
	// the store's answer and not a 422 that would tell the key was used.
	theirs := x.as(otherKey, "POST", "/points", `{"account_id":"derick","amount":5}`, "Idempotency-Key", "k-1")
	if b := theirs.json(t); theirs.status != http.StatusCreated || b["id"] == first["id"] || num(b["balance"]) != 5 {
		t.Errorf("other client's issue under the store's key: %d %v", theirs.status, b)
	}
	// An invalid request of another client before the store's first write
	// claims nothing: the store's program then writes to its own account.
	x.as(otherKey, "POST", "/points", `{"account_id":"new-1","amount":"ten"}`)
	x.must(201, "POST", "/points", `{"account_id":"new-1","amount":1}`, "Authorization", x.auth[keyWrite])
	if b := x.as(derick, "GET", "/points?account_id=derick", "").json(t); num(b["balance"]) != 100 {
		t.Errorf("derick's points after the other client's requests: %v", b)
	}
	if b := x.as(otherKey, "GET", "/points?account_id=derick", "").json(t); num(b["balance"]) != 5 {
		t.Errorf("the other client's own derick: %v", b)
	}
}

// TestSignInThrottle: after five wrong passwords the account is refused,
// even with the right one, until the window passes; the answer says so.
func TestSignInThrottle(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	a.user("derick", ports.RoleCustomer, "UnicornStore")
	right := fmt.Sprintf(`{"username":"derick","password":%q}`, testPassword)
	for range 5 {
		a.must(401, "POST", "/auth/token", `{"username":"derick","password":"guess-guess-guess"}`, "Authorization", "")
	}
	r := a.do("POST", "/auth/token", right, "Authorization", "")
	if r.status != 429 || r.header.Get("Retry-After") == "" || !strings.Contains(string(r.body), "too many failed sign-ins for this account") {
		t.Fatalf("after 5 failures: %d %s (Retry-After %q)", r.status, r.body, r.header.Get("Retry-After"))
	}
	if wait, _ := strconv.Atoi(r.header.Get("Retry-After")); wait < 14*60 || wait > 15*60 {
		t.Errorf("Retry-After = %d s, want about 15 minutes", wait)
	}
	a.clock.Advance(15*time.Minute + time.Second)
	a.must(200, "POST", "/auth/token", right, "Authorization", "")
	// From one address, many usernames: the address is throttled too.
	for i := range 20 {
		a.must(401, "POST", "/auth/token", fmt.Sprintf(`{"username":"user-%d","password":"guess-guess-guess"}`, i), "Authorization", "")
	}
	if r := a.do("POST", "/auth/token", right, "Authorization", ""); r.status != 429 || !strings.Contains(string(r.body), "address") {
		t.Errorf("after 20 failures from one address: %d %s", r.status, r.body)
	}
}

// TestSecretsStayOutOfLogs: passwords, tokens and keys never reach the log.
func TestSecretsStayOutOfLogs(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	key := a.apiKey("points:read", "points:write")
	a.must(201, "POST", "/points", `{"account_id":"1234","amount":1}`, "Authorization", key)
	tok := a.must(200, "POST", "/auth/token", fmt.Sprintf(`{"username":"boss","password":%q}`, testPassword), "Authorization", "")
	a.must(401, "POST", "/auth/token", `{"username":"boss","password":"a-wrong-password-42"}`, "Authorization", "")
	a.do("GET", "/auth/me", "", "Authorization", "Bearer "+tok["access_token"].(string)+"x")
	logs := a.logs.String()
	if !strings.Contains(logs, `"path":"/auth/token"`) {
		t.Fatalf("the requests were not logged:\n%s", logs)
	}
	for _, secret := range []string{testPassword, "a-wrong-password-42", strings.TrimPrefix(key, "Bearer "), tok["access_token"].(string), tok["refresh_token"].(string)} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds a secret %q", secret)
		}
	}
}

// TestCORSAndSecurityHeaders: only configured origins get CORS answers;
// every response carries the security headers.
func TestCORSAndSecurityHeaders(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	r := a.do("OPTIONS", "/points", "", "Origin", "https://shop.example", "Access-Control-Request-Method", "POST", "Authorization", "")
	if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != "https://shop.example" ||
		!strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "Authorization") || !strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "Prefer") {
		t.Errorf("preflight from an allowed origin: %d %v", r.status, r.header)
	}
	r = a.do("OPTIONS", "/points", "", "Origin", "https://evil.example", "Access-Control-Request-Method", "POST", "Authorization", "")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin was allowed: %v", r.header)
	}
	r = a.do("GET", "/products", "", "Origin", "https://shop.example")
	if r.header.Get("Access-Control-Allow-Origin") != "https://shop.example" || !strings.Contains(r.header.Get("Access-Control-Expose-Headers"), "Preference-Applied") {
		t.Errorf("GET from an allowed origin: %v", r.header)
	}
	for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Content-Security-Policy"} {
		if r.header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	if got := r.header.Get("Content-Security-Policy"); got != csp {
		t.Errorf("Content-Security-Policy = %q, want %q", got, csp)
	}
}
