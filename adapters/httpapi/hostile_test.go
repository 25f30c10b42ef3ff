package httpapi_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	_ "modernc.org/sqlite" // the driver the store's copy is read with

	"github.com/unicornstore/unicorn/adapters/httpapi"
	"github.com/unicornstore/unicorn/adapters/sqlite"
	"github.com/unicornstore/unicorn/ports"
)

// The hostile matrix sends every route a table of hostile inputs, made from
// a request the route would accept and sent with credentials the route
// admits, so that the handler, not the guard, answers them. Every answer
// must be a refusal (a 4xx RFC 9457 problem with a detail), never a 5xx or
// a panic, and the store must hold afterwards exactly what it held before.
//
// The store's state is every row of every table of its SQLite file, read
// from a consistent copy before and after the hostile inputs (of one route
// that writes, or of all the reads: see hostileGroup), except what changes
// by design whatever a request's answer (bookkeeping below).
// Comparing the file rather than what the API shows catches a write that no
// read of the API would show (an idempotency key claimed, a reservation
// left behind, an outbox message).

// hostileRoute is how the matrix calls one route.
type hostileRoute struct {
	// as is the principal of the access matrix who sends the requests; the
	// route must admit it (checked against the access matrix).
	as string
	// path and body are a request the route accepts, which the hostile
	// inputs are made from (sent last, after the store was compared, to
	// check that the route does accept it).
	// {tx} is a points transaction of derick's; {refresh} a refresh token
	// of a session of his. A route without a body has body "".
	path, body string
	// params are query parameters the route reads besides those of path.
	params []string
	// files: a file of the web app, an image or /healthz: path tricks only.
	files bool
	// mistakes: the route answers mistakes in what it is sent with a 200
	// whose body says "valid": false (POST /campaigns/validate), which is
	// its refusal.
	mistakes bool
	// answers lists hostile inputs (by name; a trailing * matches a prefix)
	// that the route answers with a success by design, changing nothing:
	// they are sent and checked like the others, but a 2xx is not a
	// failure. takes lists inputs that are not hostile for the route at
	// all (a valid request, with effects), which are not sent. Each says
	// why.
	answers, takes map[string]string
}

// draftCampaign is a campaign with its rules as an array, so that the
// matrix reaches into each rule's fields.
const draftCampaign = `{"client":"UnicornStore","campaign_name":"c2","status":"paused","priority":3,"budget":5000,` +
	`"rules":[{"variable":"$.amount","condition":{"rule":"numeric_greater_than","value":100},"action":{"command":"issue","formula":"$.amount/10"}}]}`

// draftTakes are the values of draftCampaign's fields that a campaign takes.
var draftTakes = map[string]string{
	"status: empty":              "a campaign without a status starts active",
	"value: 9223372036854775808": "a condition compares with any number within the limits on numbers",
}

// hostileRoutes has a row for every route: a route added without one fails
// TestHostileInputs.
var hostileRoutes = map[string]hostileRoute{
	"GET /{$}":                   {as: anonymous, path: "/", files: true},
	"GET /assets/":               {as: anonymous, path: "/assets/app-abc.js", files: true},
	"GET /favicon.svg":           {as: anonymous, path: "/favicon.svg", files: true},
	"GET /healthz":               {as: anonymous, path: "/healthz", files: true},
	"GET /images/":               {as: anonymous, path: "/images/unicorn-air.svg", files: true},
	"GET /settings":              {as: anonymous, path: "/settings"},
	"GET /.well-known/jwks.json": {as: anonymous, path: "/.well-known/jwks.json"},
	"GET /openapi.json":          {as: anonymous, path: "/openapi.json"},
	"POST /auth/token":           {as: anonymous, path: "/auth/token", body: `{"username":"derick","password":"` + testPassword + `"}`},
	"POST /auth/refresh":         {as: anonymous, path: "/auth/refresh", body: `{"refresh_token":"{refresh}"}`},
	"POST /auth/logout": {as: anonymous, path: "/auth/logout", body: `{"refresh_token":"{refresh}"}`,
		answers: map[string]string{
			"refresh_token: *": "signing out of a session that is not there succeeds and changes nothing: the answer tells nobody whether a token was good",
		},
		takes: map[string]string{
			"not an object: empty body":      "the body is optional: without one, the Authorization header names the session",
			"not an object: whitespace body": "the body is optional: without one, the Authorization header names the session",
		}},
	"GET /auth/me":             {as: boss, path: "/auth/me"},
	"GET /users":               {as: boss, path: "/users"},
	"POST /users":              {as: boss, path: "/users", body: `{"username":"newbie","role":"customer","password":"a-long-password-1"}`},
	"POST /points":             {as: boss, path: "/points", body: `{"account_id":"derick","amount":100,"reference":"r-1"}`},
	"DELETE /points":           {as: boss, path: "/points", body: `{"account_id":"derick","amount":1,"reference":"r-2"}`},
	"GET /points":              {as: boss, path: "/points?account_id=derick", params: []string{"limit", "cursor", "status"}},
	"GET /points/transactions": {as: boss, path: "/points/transactions?account_id=derick", params: []string{"limit", "cursor"}},
	"POST /points/transactions/{id}/reversal": {as: boss, path: "/points/transactions/{tx}/reversal", body: `{"account_id":"derick"}`},
	"POST /points/awards": {as: boss, path: "/points/awards", body: `{"client":"UnicornStore","username":"derick","order_id":"m1","amount":1700}`,
		takes: map[string]string{
			"unknown field: *":               "a purchase event may carry any field a campaign's rule reads",
			"wrong type: client as number":   "a purchase event's ids may be numbers (an order number): they are read as their digits",
			"wrong type: username as number": "a purchase event's ids may be numbers (an order number): they are read as their digits",
			"wrong type: order_id as number": "a purchase event's ids may be numbers (an order number): they are read as their digits",
			"client: empty":                  "an event without a client is the caller's own client's",
			"username: dot*":                 "an event's username is a points account's id, which no path holds",
			"amount: 9223372036854775808": "a 19-digit amount is a number the rules read: it earns what they give, up to the client's ceiling " +
				"for that amount and the most points of one command; the same callers may issue any points with POST /points",
		},
		answers: map[string]string{
			"wrong type: amount as *": "the event's values are data its rules read: a value that is no number is no amount, and earns nothing here",
			"amount: *":               "the event's values are data its rules read: an amount out of the limits on numbers is no number, and earns nothing here",
		}},
	"GET /campaigns":           {as: boss, path: "/campaigns?client=UnicornStore"},
	"POST /campaigns":          {as: boss, path: "/campaigns", body: draftCampaign, takes: draftTakes},
	"POST /campaigns/validate": {as: boss, path: "/campaigns/validate", body: draftCampaign, mistakes: true, takes: draftTakes},
	"POST /campaigns/simulate": {as: boss, path: "/campaigns/simulate", body: `{"client":"UnicornStore","event":{"amount":1700}}`,
		answers: map[string]string{"client: empty": "a simulation without a client is of the caller's own client's campaigns"}},
	"POST /campaigns/backtest": {as: boss, path: "/campaigns/backtest", body: `{"client":"UnicornStore","days":30,"campaign":` + draftCampaign + `}`,
		takes: draftTakes,
		answers: map[string]string{
			"client: empty":        "a backtest without a client is of the caller's own client's campaigns; a campaign without one is the backtest's client's",
			"campaign_name: empty": "a new campaign tried without a name is called draft: nothing is saved under it",
		}},
	"GET /campaigns/{name}":          {as: boss, path: "/campaigns/1?client=UnicornStore"},
	"PATCH /campaigns/{name}":        {as: boss, path: "/campaigns/1?client=UnicornStore", body: `{"priority":2}`},
	"DELETE /campaigns/{name}":       {as: boss, path: "/campaigns/1?client=UnicornStore"},
	"GET /campaigns/{name}/versions": {as: boss, path: "/campaigns/1/versions?client=UnicornStore"},
	"GET /points-ceiling":            {as: boss, path: "/points-ceiling?client=UnicornStore"},
	"GET /tiers":                     {as: boss, path: "/tiers?client=UnicornStore"},
	"PUT /tiers": {as: boss, path: "/tiers?client=UnicornStore",
		body: `{"window_days":365,"tiers":[{"name":"member","min_points":0},{"name":"silver","min_points":1000,"multiplier":1.25}]}`},
	"GET /points/tier": {as: boss, path: "/points/tier?account_id=derick"},
	"POST /webhooks/endpoints": {as: boss, path: "/webhooks/endpoints",
		body:  `{"url":"https://hooks.example.com/unicorn","events":["order.completed"],"expiring_days":7}`,
		takes: map[string]string{"missing field: expiring_days": "expiring_days is optional: 7 days without it"}},
	"GET /webhooks/endpoints":               {as: boss, path: "/webhooks/endpoints"},
	"DELETE /webhooks/endpoints/{id}":       {as: boss, path: "/webhooks/endpoints/{endpoint}"},
	"POST /webhooks/endpoints/{id}/secret":  {as: boss, path: "/webhooks/endpoints/{endpoint}/secret"},
	"GET /webhooks/deliveries":              {as: boss, path: "/webhooks/deliveries", params: []string{"endpoint_id", "cursor", "limit"}},
	"POST /webhooks/deliveries/{id}/replay": {as: boss, path: "/webhooks/deliveries/{delivery}/replay"},
	"PUT /points-ceiling":                   {as: boss, path: "/points-ceiling?client=UnicornStore", body: `{"points_per_amount":1,"fixed_points":100}`},
	"GET /products":                         {as: anonymous, path: "/products", params: []string{"q"}},
	"GET /products/{id}":                    {as: anonymous, path: "/products/1"},
	"POST /products": {as: boss, path: "/products",
		body: `{"id":"p2","name":"Unicorn Two","description":"d","image":"/images/unicorn-air.svg","price":10.50,"stock":3}`},
	"PUT /products/{id}":        {as: boss, path: "/products/1", body: `{"name":"Unicorn","description":"","image":"","price":12}`},
	"DELETE /products/{id}":     {as: boss, path: "/products/1"},
	"POST /products/{id}/stock": {as: boss, path: "/products/1/stock", body: `{"delta":5}`},
	"GET /users/{first}/{second}": {as: boss, path: "/users/derick/wallet", answers: map[string]string{
		"path: first: %2e*": "the wallet of a name that never had money reads as empty, whoever has the name, if anyone",
	}},
	"POST /users/{username}/wallet/deposits": {as: boss, path: "/users/derick/wallet/deposits", body: `{"amount":100.25}`},
	"POST /purchase": {as: boss, path: "/purchase",
		body: `{"user_id":"derick","items":[{"product_id":"1","quantity":1}],"redeem_points":0,"expected_total":1}`},
	// Staff naming no customer: hostile cursors reach the list of every
	// order; user_id is among the params, so its hostile values are sent too.
	"GET /orders": {as: boss, path: "/orders?limit=5", params: []string{"user_id", "cursor", "status"},
		answers: map[string]string{"query user_id: empty": "staff who name no customer list every customer's orders"}},
	"GET /orders/{id}":        {as: boss, path: "/orders/o-derick"},
	"POST /orders/{id}/retry": {as: boss, path: "/orders/o-stuck/retry"},
	"POST /orders/{id}/returns": {as: boss, path: "/orders/o-done/returns", body: `{"lines":[{"product_id":"1","quantity":1}],"reason":"too big"}`,
		takes: map[string]string{
			"missing field: lines":  "a return without lines returns everything not returned yet: it cancels the order",
			"lines: null":           "a return without lines returns everything not returned yet: it cancels the order",
			"reason: *":             "a reason is free text, up to 500 characters",
			"missing field: reason": "a reason is optional",
		}},
	"GET /analytics/products":  {as: boss, path: "/analytics/products"},
	"GET /analytics/campaigns": {as: boss, path: "/analytics/campaigns?client=UnicornStore", params: []string{"days"}},
}

// bookkeeping is what changes by design whatever a request's answer: a
// table (nil) or some of its columns. Sign-in attempts are counted before
// the password is checked, refused or not: that is the throttle working.
// An API key records its last use on every request it authenticates.
var bookkeeping = map[string][]string{
	"signin_attempts": nil,
	"api_keys":        {"last_used_at"},
}

// TestHostileInputs runs the hostile matrix: every route × every hostile
// input that applies to it (see hostileCases).
func TestHostileInputs(t *testing.T) {
	t.Parallel()
	routes := httpapi.Routes()
	for pattern := range hostileRoutes {
		if !slices.Contains(routes, pattern) {
			t.Errorf("hostileRoutes lists %q, which is not a route", pattern)
		}
	}
	groups := map[string][]string{}
	for _, pattern := range routes {
		hr, ok := hostileRoutes[pattern]
		if !ok {
			t.Errorf("route %q has no row in hostileRoutes: say how the hostile matrix calls it", pattern)
			continue
		}
		if m, ok := matrix[pattern]; !ok || !(slices.Contains(m.allowed, hr.as) || slices.Contains(m.allowed, everyone) ||
			slices.Contains(m.allowed, signedInAs) && hr.as != anonymous) {
			t.Errorf("%s: the access matrix does not let %s call it", pattern, hr.as)
			continue
		}
		g := hostileGroup(pattern, hr)
		groups[g] = append(groups[g], pattern)
	}
	var mu sync.Mutex
	total := 0
	t.Cleanup(func() { t.Logf("%d routes, %d hostile requests", len(routes), total) })
	for _, g := range slices.Sorted(maps.Keys(groups)) {
		t.Run(g, func(t *testing.T) {
			t.Parallel()
			n := runHostileGroup(t, groups[g])
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
}

// hostileGroup names the routes that share a store: the files, the reads
// (which change nothing, so that a change is theirs whichever it is) and,
// each on its own, the routes that write, so that a change is pinned on
// the route that made it and no route's valid request disturbs another's.
// A store costs more than most routes' inputs.
func hostileGroup(pattern string, hr hostileRoute) string {
	switch {
	case hr.files:
		return "files"
	case strings.HasPrefix(pattern, "GET "):
		return "reads"
	}
	return pattern
}

// hostileEnv is a store of its own for a group of routes.
type hostileEnv struct {
	api     *api
	auth    map[string]string // the Authorization of each principal
	handler http.Handler
	vars    *strings.Replacer
}

func newHostileEnv(t *testing.T, files bool) *hostileEnv {
	t.Helper()
	if files {
		a := newAPI(t, 365, webApp(httpapi.WebAppDir(builtWebApp(t))))
		return &hostileEnv{api: a, auth: map[string]string{anonymous: ""}, handler: a.srv.Config.Handler, vars: strings.NewReplacer()}
	}
	x := newAccess(t)
	ctx := context.Background()
	tx := x.must(201, "POST", "/points", `{"account_id":"derick","amount":1000}`)
	x.must(201, "POST", "/users/derick/wallet/deposits", `{"amount":1000}`)
	now := x.clock.Now()
	if _, _, err := x.db.Orders().Create(ctx, ports.Order{ID: "o-stuck", UserID: "derick", Client: "UnicornStore",
		Status: ports.OrderNeedsAttention, Attempt: 1, Total: decimal.NewFromInt(1), Charged: decimal.NewFromInt(1),
		CreatedAt: now, UpdatedAt: now, Version: 1}); err != nil {
		t.Fatal(err)
	}
	one := decimal.NewFromInt(1)
	if _, _, err := x.db.Orders().Create(ctx, ports.Order{ID: "o-done", UserID: "derick", Client: "UnicornStore",
		Status: ports.OrderCompleted, Attempt: 1, Total: decimal.NewFromInt(2), Charged: decimal.NewFromInt(2), PointsValue: decimal.Zero,
		Lines:     []ports.OrderLine{{ProductID: "1", Name: "Unicorn", Quantity: 2, UnitPrice: one, Amount: decimal.NewFromInt(2)}},
		CreatedAt: now, UpdatedAt: now, CompletedAt: now, Version: 1}); err != nil {
		t.Fatal(err)
	}
	tokens := x.must(200, "POST", "/auth/token", fmt.Sprintf(`{"username":"derick","password":%q}`, testPassword), "Authorization", "")
	// A webhook endpoint, and a delivery of it that was delivered (one an
	// admin may send again).
	endpoint := x.must(201, "POST", "/webhooks/endpoints", `{"url":"https://hooks.example.com/unicorn","events":["order.completed"]}`)
	delivery := ports.WebhookDelivery{ID: "wd-1", EndpointID: endpoint["id"].(string), Client: "UnicornStore", EventID: "ev-1",
		EventType: "order.completed", Payload: json.RawMessage(`{"id":"ev-1"}`), Status: ports.WebhookDelivered, Attempts: 1,
		LastAttemptAt: now, LastStatus: 200, CreatedAt: now, UpdatedAt: now, Version: 1}
	if _, err := x.db.Webhooks().Enqueue(ctx, delivery); err != nil {
		t.Fatal(err)
	}
	return &hostileEnv{api: x.api, auth: x.auth, handler: x.srv.Config.Handler,
		vars: strings.NewReplacer("{tx}", tx["id"].(string), "{refresh}", tokens["refresh_token"].(string),
			"{endpoint}", endpoint["id"].(string), "{delivery}", delivery.ID)}
}

// send serves one request directly, without a network between: the
// answer is the handler's own, and a 10 MB body costs no copying.
func (e *hostileEnv) send(c hostileCase, auth, remote string) *httptest.ResponseRecorder {
	var body io.Reader = strings.NewReader(c.body)
	if c.huge {
		body = io.MultiReader(strings.NewReader(c.body), strings.NewReader(tenMegabytes()), strings.NewReader(`"}`))
	}
	req := httptest.NewRequest(c.method, c.target, body)
	req.RemoteAddr = remote
	switch {
	case c.contentType != nil:
		if *c.contentType != "" {
			req.Header.Set("Content-Type", *c.contentType)
		}
	case c.body != "":
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, req)
	return w
}

var tenMegabytes = sync.OnceValue(func() string { return strings.Repeat("x", 10<<20) })

// Where requests come from: the hostile ones, and the valid ones, from an
// address the hostile sign-ins have not made the throttle wary of.
const (
	hostileAddr = "192.0.2.1:1234"
	validAddr   = "198.51.100.7:1234"
)

// runHostileGroup sends each route of a group its hostile inputs, on one
// store, and checks the store held still; then each route's valid request.
func runHostileGroup(t *testing.T, patterns []string) int {
	e := newHostileEnv(t, hostileRoutes[patterns[0]].files)
	bases := map[string]hostileCase{}
	for _, pattern := range patterns {
		hr := hostileRoutes[pattern]
		method, _, _ := strings.Cut(pattern, " ")
		bases[pattern] = hostileCase{name: "the valid request", method: method, target: e.vars.Replace(hr.path), body: e.vars.Replace(hr.body)}
		if method == http.MethodGet {
			// A read brings the points read model up to the ledger's last
			// event, by design: done first, it changes nothing later.
			e.send(bases[pattern], e.auth[hr.as], validAddr)
		}
	}
	before := storeState(t, e.api.db)
	var count atomic.Int64
	run := func(t *testing.T, pattern string) {
		hr := hostileRoutes[pattern]
		cases := hostileCases(pattern, hr, bases[pattern])
		for _, c := range cases {
			checkHostileAnswer(t, pattern, hr, c, e.send(c, e.auth[hr.as], hostileAddr))
		}
		count.Add(int64(len(cases)))
	}
	if len(patterns) == 1 {
		run(t, patterns[0])
	} else {
		t.Run("inputs", func(t *testing.T) { // returns once every route is done
			for _, pattern := range patterns {
				t.Run(pattern, func(t *testing.T) {
					t.Parallel()
					run(t, pattern)
				})
			}
		})
	}
	after := storeState(t, e.api.db)
	if diff := stateDiff(before, after); diff != "" {
		t.Errorf("%v: the hostile inputs changed the store:\n%s", patterns, diff)
	}
	if logs := e.api.logs.String(); strings.Contains(logs, `"msg":"panic"`) {
		t.Errorf("%v: a handler panicked:\n%s", patterns, excerpt(logs, `"msg":"panic"`))
	}
	// Each valid request is accepted: the refusals were the inputs' doing,
	// not the credentials' or the setup's.
	for _, pattern := range patterns {
		hr, base := hostileRoutes[pattern], bases[pattern]
		w := e.send(base, e.auth[hr.as], validAddr)
		if w.Code >= 300 || hr.mistakes && !strings.Contains(w.Body.String(), `"valid":true`) {
			t.Errorf("%s %s %s: %d %s; the matrix's valid request must be accepted", base.method, base.target, base.body, w.Code, w.Body)
		}
	}
	return int(count.Load())
}

// checkHostileAnswer checks one answer: a refusal as a problem, or a
// success the route gives by design.
func checkHostileAnswer(t *testing.T, pattern string, hr hostileRoute, c hostileCase, w *httptest.ResponseRecorder) {
	t.Helper()
	what := func() string {
		target, body := c.target, c.body
		if len(target) > 160 {
			target = target[:160] + "..."
		}
		if len(body) > 160 {
			body = body[:160] + "..."
		}
		return fmt.Sprintf("%s [%s] %s %s %q", pattern, c.name, c.method, target, body)
	}
	if strings.Contains(w.Body.String(), "not for the web") {
		t.Errorf("%s: served a file outside the web app: %s", what(), w.Body)
	}
	answered := lenient(hr.answers, c.name)
	switch {
	case w.Code >= 500:
		t.Errorf("%s: %d %s", what(), w.Code, w.Body)
		return
	case w.Code < 400 && hr.mistakes && w.Code == http.StatusOK:
		var v struct {
			Valid *bool `json:"valid"`
		}
		if json.Unmarshal(w.Body.Bytes(), &v) != nil || v.Valid == nil || *v.Valid {
			t.Errorf("%s: %d %s; want a refusal or \"valid\": false", what(), w.Code, w.Body)
		}
		return
	case w.Code < 400 && (answered || c.harmless != ""):
		return
	case w.Code < 400:
		t.Errorf("%s: %d %s; want a 4xx refusal", what(), w.Code, w.Body)
		return
	case w.Code == http.StatusUnauthorized && hr.as != anonymous:
		t.Errorf("%s: 401 %s: the credentials were refused, so the handler never saw the input", what(), w.Body)
	case w.Code == http.StatusForbidden && !strings.EqualFold(c.field, "client"):
		// Only an input naming another client may be refused for it.
		t.Errorf("%s: 403 %s: the caller was refused, so the handler never saw the input", what(), w.Body)
	}
	mt, _, err := mime.ParseMediaType(w.Header().Get("Content-Type"))
	if err != nil || mt != "application/problem+json" {
		t.Errorf("%s: %d with Content-Type %q, not a problem: %s", what(), w.Code, w.Header().Get("Content-Type"), w.Body)
		return
	}
	var p struct {
		Type, Title, Detail string
		Status              int
	}
	dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
	if err := dec.Decode(&p); err != nil || dec.More() || p.Status != w.Code || p.Type == "" || p.Title == "" || p.Detail == "" {
		t.Errorf("%s: %d with the problem %s; want one with type, title, status and detail", what(), w.Code, w.Body)
	}
}

// lenient reports whether name is listed (the lists' values say why).
func lenient(list map[string]string, name string) bool {
	for pattern := range list {
		if pattern == name || strings.HasSuffix(pattern, "*") && strings.HasPrefix(name, strings.TrimSuffix(pattern, "*")) {
			return true
		}
	}
	return false
}

// hostileCase is one hostile request.
type hostileCase struct {
	name           string
	method, target string
	body           string
	huge           bool    // body is followed by 10 MB and `"}`
	contentType    *string // nil: application/json when there is a body; "": none
	// field is the body field or query parameter the input is in.
	field string
	// harmless says why a success is a fine answer (a search for odd text).
	harmless string
}

// hostileCases makes the hostile inputs that apply to a route from its
// valid request: path tricks for every route; hostile query values for
// the parameters it reads; and, for a route with a body, malformed and
// strange bodies, wrong types and hostile values for every field, and
// wrong content types.
func hostileCases(pattern string, hr hostileRoute, base hostileCase) []hostileCase {
	var out []hostileCase
	add := func(c hostileCase) {
		if lenient(hr.takes, c.name) {
			return
		}
		c.method = base.method
		if c.target == "" {
			c.target = base.target
		}
		out = append(out, c)
	}
	withBody := func(c hostileCase) hostileCase { c.body = base.body; return c }
	for _, c := range pathCases(pattern, base.target, hr.files) {
		add(withBody(c))
	}
	for _, c := range queryCases(base.target, hr.params) {
		add(withBody(c))
	}
	if base.body == "" {
		return out
	}
	for _, c := range bodyCases(base.body) {
		add(c)
	}
	return out
}

// Hostile strings, for ids in bodies, path segments and query values.
var hostileStrings = []struct{ name, value string }{
	{"RTL override", "der\u202eick"},
	{"combining mark", "derick\u0301"},
	{"emoji", "derick\U0001F984"},
	{"homoglyph", "d\u0435rick"},
	{"zero-width space", "\u200bderick"},
	{"invalid UTF-8", "der\xff\xfeick"},
	{"NUL", "der\x00ick"},
	{"control character", "der\x07ick"},
	{"newline", "derick\r\n"},
	{"DEL", "der\x7fick"},
	{"dot segments", "../derick"},
	{"spaces", " derick "},
	{"129 characters", strings.Repeat("d", 129)},
	{"10,000 characters", strings.Repeat("d", 10000)},
}

// dotSegments are ids that a path cannot hold: hostile for what a path
// names (a path segment; a new product, user or campaign), ordinary for
// the rest (a points account's id).
var dotSegments = []struct{ name, value string }{{"dot", "."}, {"dot-dot", ".."}}

// pathNamed are the body fields that name something a path then reaches.
var pathNamed = []string{"id", "username", "campaign_name"}

// pathCases are path tricks on the whole path, and hostile segments in
// place of each of the pattern's wildcards.
func pathCases(pattern, target string, files bool) []hostileCase {
	path, query, _ := strings.Cut(target, "?")
	if query != "" {
		query = "?" + query
	}
	var out []hostileCase
	trick := func(name, p string, _ bool) {
		if p == path {
			return // no trick for this path
		}
		out = append(out, hostileCase{name: "path: " + name, target: p + query})
	}
	trick("double slash in front", "/"+path, true)
	if i := strings.LastIndex(path, "/"); i > 0 {
		trick("double slash inside", path[:i]+"/"+path[i:], true)
		trick("encoded slash", path[:i]+"%2F"+path[i+1:], false)
		trick("backslashes", "/"+strings.ReplaceAll(path[1:], "/", "%5C"), false)
	}
	trick("dot segment", "/."+path, true)
	trick("dot-dot segment", "/x/.."+path, true)
	trick("encoded dot-dot segment", "/%2e%2e"+path, false)
	trick("encoded dot-dot after", strings.TrimSuffix(path, "/")+"/%2e%2e", false)
	trick("trailing slash", strings.TrimSuffix(path, "/")+"/x/", false)
	trick("upper case", strings.ToUpper(path), false)
	trick("NUL at the end", path+"%00", false)
	trick("semicolon parameter", path+";jsessionid=1", false)
	trick("very long", strings.TrimSuffix(path, "/")+"/"+strings.Repeat("a", 10000), false)
	if files {
		for _, p := range []string{"/assets/%2e%2e/%2e%2e/secret.txt", "/assets/..%2F..%2Fsecret.txt", "/assets/up/secret.txt",
			"/assets/leak.txt", "/assets/nested", "/assets/..%5C..%5Csecret.txt", "/images/%2e%2e/images.go", "/images/..%2Fimages.go",
			"/favicon.svg%00", "/favicon.svg/", "/healthz%2F..%2Fsettings"} {
			trick("file trick "+p, p, false)
		}
	}
	// Hostile segments where the pattern takes one.
	_, pat, _ := strings.Cut(pattern, " ")
	patSegs, segs := strings.Split(pat, "/"), strings.Split(path, "/")
	for i, ps := range patSegs {
		wild := strings.HasPrefix(ps, "{") && ps != "{$}" || i == len(patSegs)-1 && ps == "" && len(segs) > i && segs[i] != ""
		if !wild || i >= len(segs) {
			continue
		}
		with := func(seg string) string {
			s := slices.Clone(segs)
			s[i] = seg
			return strings.Join(s, "/")
		}
		what := strings.Trim(ps, "{}")
		if what == "" {
			what = "file name"
		}
		for _, h := range hostileStrings {
			trick(what+": "+h.name, with(url.PathEscape(h.value)), false)
		}
		for _, h := range dotSegments {
			trick(what+": "+h.name, with(h.value), true)
		}
		for _, seg := range []string{"%2e%2e", "%2e", "..%2F..%2Fsecret.txt", "%00", "a%2Fb", "%25", "%2F"} {
			trick(what+": "+seg, with(seg), false)
		}
	}
	return out
}

// Hostile values of query parameters, by parameter; ids take the hostile
// strings too. Each parameter is also given twice.
var hostileParams = map[string][]string{
	"limit":  {"-1", "0", "1e9", "1000000000", "99999999999999999999999", "0x10", "NaN", "1.5", "%201", "1%00", "ten"},
	"cursor": {"garbage", "-1", "0", "%00", "'%20OR%20'1'='1", "%FF%FE", "99999999999999999999999", strings.Repeat("9", 10000), "..%2F..%2F", "%zz"},
	"status": {"expired", "ACTIVE", "active%00", "needs_attention%00", "%FF"},
	"days":   {"-1", "0", "1e9", "99999999999999999999999", "1.5", "x", "%00", "100000"},
	"q":      {strings.Repeat("a", 201), "%00", "%07", "%FF%FE"},
}

// searchText is text a search takes as it is: it finds what matches, if
// anything, and is no mistake.
var searchText = []string{"%22", "NEAR(", "*", "a%20OR", "%5E", "-x", "name:x", "%F0%9F%A6%84", "%E2%80%AE", "'%3B%20DROP%20TABLE%20products%3B--"}

// idParams are the query parameters that name an account, a user or a
// client.
var idParams = []string{"account_id", "user_id", "client"}

// queryCases are hostile values, one at a time, of each parameter of the
// valid request's query and of the optional ones the route reads.
func queryCases(target string, optional []string) []hostileCase {
	path, query, _ := strings.Cut(target, "?")
	var names []string
	given := map[string]string{}
	for _, kv := range strings.Split(query, "&") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			names = append(names, k)
			given[k] = v
		}
	}
	names = append(names, optional...)
	var out []hostileCase
	with := func(name, value string) string {
		var parts []string
		replaced := false
		for _, kv := range strings.Split(query, "&") {
			if k, _, _ := strings.Cut(kv, "="); k == name && !replaced {
				kv, replaced = name+"="+value, true
			}
			if kv != "" {
				parts = append(parts, kv)
			}
		}
		if !replaced {
			parts = append(parts, name+"="+value)
		}
		return path + "?" + strings.Join(parts, "&")
	}
	for _, name := range names {
		values := hostileParams[name]
		if slices.Contains(idParams, name) {
			for _, h := range hostileStrings {
				out = append(out, hostileCase{name: "query " + name + ": " + h.name, field: name, target: with(name, url.QueryEscape(h.value))})
			}
			if name != "client" { // an empty client is the caller's own
				out = append(out, hostileCase{name: "query " + name + ": empty", field: name, target: with(name, "")})
			}
		}
		for _, v := range values {
			out = append(out, hostileCase{name: "query " + name + ": " + shorten(v), field: name, target: with(name, v)})
		}
		if name == "q" {
			for _, v := range searchText {
				out = append(out, hostileCase{name: "query q: " + v, field: name, target: with(name, v),
					harmless: "a search for odd text finds what matches it, if anything"})
			}
		}
		first := given[name]
		if first == "" {
			first = map[string]string{"limit": "10", "cursor": "1", "status": "active", "days": "7", "q": "unicorn"}[name]
		}
		twice := with(name, first) + "&" + name + "=" + first
		out = append(out, hostileCase{name: "query " + name + ": given twice", field: name, target: twice})
		other := "x"
		if name == "limit" || name == "days" {
			other = "1"
		}
		out = append(out, hostileCase{name: "query " + name + ": given twice, differently", field: name,
			target: with(name, first) + "&" + name + "=" + other})
	}
	return out
}

// shorten keeps a long value short enough to name a case.
func shorten(s string) string {
	if len(s) > 24 {
		return fmt.Sprintf("%s... (%d characters)", s[:12], len(s))
	}
	return s
}

// idFields are body fields that hold an id (limits.ID) or a name from a
// closed list, which hostile strings must never pass.
var idFields = []string{"account_id", "user_id", "userId", "product_id", "productId", "id", "client", "campaign_name",
	"username", "order_id", "role", "status", "refresh_token", "command", "rule"}

// freeForm fields hold data the route reads as it comes (a sample purchase
// event): the matrix does not reach into them.
var freeForm = []string{"event"}

// refusedNumbers are the values each numeric field refuses besides the
// exotic numbers every one refuses: zero where there must be something,
// and negatives where there cannot be.
var refusedNumbers = map[string][]string{
	"amount": {"0", "-0", "-1"}, "quantity": {"0", "-0", "-1"}, "delta": {"0", "-0"}, "price": {"-1", "-0.01"},
	"stock": {"-1"}, "budget": {"-1"}, "fixed_points": {"-1"}, "points_per_amount": {"-1"}, "redeem_points": {"-1"},
	"expected_total": {"-1"}, "days": {"0", "-0", "-1", "91"},
}

// exoticNumbers are refused by every numeric field: out of range, too
// precise, too many digits, or not JSON numbers at all.
var exoticNumbers = []string{"1e400", "-1e400", "1e-400", "0x10", "NaN", `"NaN"`, "Infinity", `"Infinity"`, "-Infinity", "+1", ".5", "01",
	"12345678901234567890123456789012345678901234", "9223372036854775808", "1e1000000000", "1" + strings.Repeat("0", 100)}

// bodyCases are hostile bodies made from a valid one: not JSON, not an
// object, followed by more, nested too deep, too large, sent as another
// type; and, field by field, of the wrong type, with hostile numbers or
// strings, named twice, or beside an unknown field.
func bodyCases(body string) []hostileCase {
	root, err := parseJSON(body)
	if err != nil {
		panic(fmt.Sprintf("the matrix's body %s: %v", body, err))
	}
	var out []hostileCase
	add := func(name, field, b string) { out = append(out, hostileCase{name: name, field: field, body: b}) }
	// Not JSON, or not an object.
	add("malformed JSON: cut short", "", body[:len(body)-1])
	add("malformed JSON: unquoted name", "", strings.Replace(body, `"`, "", 2))
	add("malformed JSON: single quotes", "", strings.ReplaceAll(body, `"`, `'`))
	add("malformed JSON: comment", "", "/* hi */"+body)
	add("malformed JSON: NUL byte", "", "\x00"+body)
	add("malformed JSON: byte order mark", "", "\ufeff"+body)
	for _, b := range []struct{ name, body string }{{"array", "[" + body + "]"}, {"null", "null"}, {"string", `"x"`}, {"number", "1"},
		{"true", "true"}, {"empty body", ""}, {"whitespace body", " \n\t"}} {
		add("not an object: "+b.name, "", b.body)
	}
	for _, tail := range []string{" {}", "x", "]", ",", body} {
		add("trailing data: "+shorten(tail), "", body+tail)
	}
	add("deep nesting: arrays", "", strings.Repeat("[", 10000)+strings.Repeat("]", 10000))
	add("deep nesting: objects", "", strings.Repeat(`{"a":`, 10000)+"1"+strings.Repeat("}", 10000))
	first := root.keys[0]
	out = append(out, hostileCase{name: "10 MB body", field: first, body: `{"` + first + `":"`, huge: true})
	// Wrong content types, with the valid body.
	ct := func(s string) *string { return &s }
	for _, c := range []string{"text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded",
		"multipart/form-data; boundary=x", "application/xml", "application/json; charset=iso-8859-1", "json", "application/jsonx"} {
		out = append(out, hostileCase{name: "content type: " + c, body: body, contentType: ct(c)})
	}
	// No content type: the body is read as JSON (see readBody), so a form
	// without one is malformed JSON.
	out = append(out, hostileCase{name: "content type: none, form body", body: "account_id=derick&amount=1", contentType: ct("")})
	// Every field: wrong types, hostile values, and, for objects, names
	// given twice and unknown names.
	root.walk("", func(path, key string, n *jsonNode) {
		field := path
		if key != "" {
			field = key
		}
		for _, typ := range []string{"string", "number", "boolean", "array", "object"} {
			if typ == n.typ() {
				continue
			}
			repl := map[string]string{"string": `"x"`, "number": "1", "boolean": "true", "array": "[]", "object": "{}"}[typ]
			if typ == "string" && n.typ() == "number" {
				repl = strconv.Quote(n.raw)
			}
			add("wrong type: "+path+" as "+typ, field, root.with(n, &jsonNode{raw: repl}))
		}
		add("deep nesting: "+path, field, root.with(n, &jsonNode{raw: strings.Repeat("[", 10000) + strings.Repeat("]", 10000)}))
		if n.typ() == "number" {
			for _, v := range append(slices.Clone(exoticNumbers), refusedNumbers[key]...) {
				add(key+": "+shorten(v), field, root.with(n, &jsonNode{raw: v}))
			}
		}
		switch {
		case n.typ() == "string" && slices.Contains(idFields, key):
			for _, h := range hostileStrings {
				add(key+": "+h.name, field, root.with(n, &jsonNode{raw: jsonString(h.value)}))
			}
			for _, h := range dotSegments {
				if slices.Contains(pathNamed, key) {
					add(key+": "+h.name, field, root.with(n, &jsonNode{raw: jsonString(h.value)}))
				}
			}
			add(key+": empty", field, root.with(n, &jsonNode{raw: `""`}))
		case n.typ() == "string":
			// Text may hold any character, but only as UTF-8: a JSON
			// text is UTF-8, and bytes that are not cannot be stored as
			// they came.
			add(path+": invalid UTF-8", field, root.with(n, &jsonNode{raw: jsonString(strings.TrimSuffix(n.raw[1:], `"`) + "\xff")}))
		}
	})
	root.walkObjects("", func(path string, n *jsonNode) {
		for i, k := range n.keys {
			dup := *n
			dup.keys = append(slices.Clone(n.keys), k)
			dup.items = append(slices.Clone(n.items), n.items[i])
			add("duplicate name: "+path+k, k, root.with(n, &dup))
			if upper := strings.ToUpper(k); upper != k {
				dup.keys[len(dup.keys)-1] = upper
				add("duplicate name in another case: "+path+upper, k, root.with(n, &dup))
			}
		}
		unknown := *n
		unknown.keys = append(slices.Clone(n.keys), "zz_unknown")
		unknown.items = append(slices.Clone(n.items), &jsonNode{raw: "1"})
		add("unknown field: "+path+"zz_unknown", "zz_unknown", root.with(n, &unknown))
	})
	return out
}

// jsonString writes s as a JSON string, keeping bytes that are not UTF-8
// as they are (a JSON encoder would replace them).
func jsonString(s string) string {
	if utf8.ValidString(s) {
		b, _ := json.Marshal(s)
		return string(b)
	}
	return `"` + s + `"`
}

// jsonNode is a JSON value that keeps its members' order, so that a body
// can be written back with one value changed.
type jsonNode struct {
	kind  byte   // '{', '[', or 0 for a scalar
	raw   string // a scalar's text
	keys  []string
	items []*jsonNode
}

func parseJSON(s string) (*jsonNode, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	return readJSONNode(dec)
}

func readJSONNode(dec *json.Decoder) (*jsonNode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		b, err := json.Marshal(tok)
		return &jsonNode{raw: string(b)}, err
	}
	n := &jsonNode{kind: byte(d)}
	for dec.More() {
		if d == '{' {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			n.keys = append(n.keys, k.(string))
		}
		item, err := readJSONNode(dec)
		if err != nil {
			return nil, err
		}
		n.items = append(n.items, item)
	}
	_, err = dec.Token()
	return n, err
}

func (n *jsonNode) String() string {
	var b strings.Builder
	n.write(&b)
	return b.String()
}

func (n *jsonNode) write(b *strings.Builder) {
	switch n.kind {
	case '{', '[':
		b.WriteByte(n.kind)
		for i, item := range n.items {
			if i > 0 {
				b.WriteByte(',')
			}
			if n.kind == '{' {
				b.WriteString(jsonString(n.keys[i]) + ":")
			}
			item.write(b)
		}
		b.WriteByte(n.kind + 2) // '}' and ']' follow '{' and '[' by two
	default:
		b.WriteString(n.raw)
	}
}

func (n *jsonNode) typ() string {
	switch {
	case n.kind == '{':
		return "object"
	case n.kind == '[':
		return "array"
	case strings.HasPrefix(n.raw, `"`):
		return "string"
	case n.raw == "true" || n.raw == "false":
		return "boolean"
	case n.raw == "null":
		return "null"
	}
	return "number"
}

// with writes the whole document with n replaced by repl.
func (n *jsonNode) with(target, repl *jsonNode) string {
	saved := *target
	*target = *repl
	defer func() { *target = saved }()
	return n.String()
}

// walk visits every value below n with its path and, for a member of an
// object, its name; it does not enter free-form fields.
func (n *jsonNode) walk(path string, visit func(path, key string, v *jsonNode)) {
	for i, item := range n.items {
		key, p := "", fmt.Sprintf("%s[%d]", path, i)
		if n.kind == '{' {
			key, p = n.keys[i], path+n.keys[i]
			if path != "" {
				p = path + "." + n.keys[i]
			}
		}
		visit(p, key, item)
		if !slices.Contains(freeForm, key) {
			item.walk(p, visit)
		}
	}
}

// walkObjects visits n and every object below it outside free-form
// fields, with the prefix their members' paths take.
func (n *jsonNode) walkObjects(prefix string, visit func(prefix string, o *jsonNode)) {
	if n.kind == '{' {
		visit(prefix, n)
	}
	for i, item := range n.items {
		p := fmt.Sprintf("%s[%d].", strings.TrimSuffix(prefix, "."), i)
		if n.kind == '{' {
			if slices.Contains(freeForm, n.keys[i]) {
				continue
			}
			p = prefix + n.keys[i] + "."
		}
		item.walkObjects(p, visit)
	}
}

// storeState reads every row of every table of a consistent copy of the
// store's database, bookkeeping left out: table name -> its rows, sorted.
func storeState(t *testing.T, db *sqlite.DB) map[string][]string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := db.Backup(ctx, path); err != nil {
		t.Fatal(err)
	}
	conn, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var tables []string
	rows, err := conn.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	state := map[string][]string{}
	for _, table := range tables {
		skip, listed := bookkeeping[table]
		if listed && skip == nil {
			continue
		}
		rows, err := conn.QueryContext(ctx, `SELECT * FROM "`+table+`"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			values := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range values {
				ptrs[i] = &values[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for i, c := range cols {
				if slices.Contains(skip, c) {
					continue
				}
				v := values[i]
				if raw, ok := v.([]byte); ok {
					v = string(raw)
				}
				fmt.Fprintf(&b, "%s=%q ", c, fmt.Sprint(v))
			}
			state[table] = append(state[table], b.String())
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		sort.Strings(state[table])
	}
	return state
}

// stateDiff lists the rows only before has (-) and only after has (+).
func stateDiff(before, after map[string][]string) string {
	var tables []string
	for table := range before {
		tables = append(tables, table)
	}
	for table := range after {
		if _, ok := before[table]; !ok {
			tables = append(tables, table)
		}
	}
	sort.Strings(tables)
	var b strings.Builder
	for _, table := range tables {
		count := map[string]int{}
		for _, r := range before[table] {
			count[r]--
		}
		for _, r := range after[table] {
			count[r]++
		}
		var lines []string
		for r, n := range count {
			sign := "+"
			if n < 0 {
				sign, n = "-", -n
			}
			for range n {
				lines = append(lines, fmt.Sprintf("  %s %s: %s", sign, table, shortenRow(r)))
			}
		}
		sort.Strings(lines)
		if len(lines) > 20 {
			lines = append(lines[:20], fmt.Sprintf("  ... and %d more rows of %s", len(lines)-20, table))
		}
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func shortenRow(r string) string {
	if len(r) > 400 {
		return r[:400] + "..."
	}
	return r
}

// excerpt is the log line holding marker.
func excerpt(logs, marker string) string {
	i := strings.Index(logs, marker)
	start := strings.LastIndex(logs[:i], "\n") + 1
	end := strings.Index(logs[i:], "\n")
	if end < 0 {
		return logs[start:]
	}
	return logs[start : i+end]
}
