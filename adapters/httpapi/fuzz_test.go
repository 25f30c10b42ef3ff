package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/adapters/httpapi"
	"github.com/unicornstore/unicorn/limits"
	"github.com/unicornstore/unicorn/ports"
)

// validBodies are requests each route takes, as a client sends them; a
// route missing here is fuzzed from its request in the access matrix.
var validBodies = map[string][]string{
	"POST /auth/token":   {`{"username":"derick","password":"` + testPassword + `"}`},
	"POST /auth/refresh": {`{"refresh_token":"not.a-token"}`},
	"POST /auth/logout":  {`{"refresh_token":"someone.else"}`, ``},
	"POST /users":        {`{"username":"newbie","role":"customer","password":"a-long-password-1"}`},
	"POST /points":       {`{"account_id":"derick","amount":100,"reference":"r-1"}`, `{"account_id":"derick","amount":1e2}`},
	"DELETE /points":     {`{"account_id":"derick","amount":1}`, `{"account_id":"derick","amount":1.0,"reference":"x"}`},
	"POST /points/awards": {`{"client":"UnicornStore","username":"derick","order_id":"m1","amount":1700,` +
		`"items":[{"product_id":"1","quantity":2,"price":850}],"tier":"gold"}`},
	"POST /campaigns":                        {seedCampaign, `{"client":"UnicornStore","campaign_name":"c2","status":"draft","priority":3,"budget":5000,"rules":[{"variable":"$.items[*].quantity","condition":{"any":[{"rule":"numeric_between","value":[1,5]},{"not":{"variable":"$.tier","rule":"string_in","value":["x"]}}]},"action":{"command":"issue","formula":"min($.amount/10, 50)"}}]}`},
	"POST /campaigns/validate":               {seedCampaign},
	"POST /campaigns/simulate":               {`{"client":"UnicornStore","event":{"amount":1700}}`, `{"client":"UnicornStore","event":{"amount":1700},"campaign":` + seedCampaign + `}`},
	"PATCH /campaigns/{name}":                {`{"priority":2}`, `{"rules":[{"action":{"command":"issue","formula":"$.amount/20"}}]}`},
	"PUT /points-ceiling":                    {`{"points_per_amount":1,"fixed_points":100}`, `{"points_per_amount":0.5}`},
	"POST /products":                         {`{"id":"p2","name":"Unicorn Two","description":"d","image":"/images/unicorn-air.svg","price":10.50,"stock":3}`},
	"PUT /products/{id}":                     {`{"name":"Unicorn","description":"","image":"","price":12,"stock":4}`},
	"POST /products/{id}/stock":              {`{"delta":5}`, `{"delta":-1}`},
	"POST /users/{username}/wallet/deposits": {`{"amount":100.25}`},
	"POST /purchase": {`{"user_id":"derick","items":[{"product_id":"1","quantity":1}],"redeem_points":0,"expected_total":1}`,
		`{"userId":"derick","productId":"1","quantity":1}`},
	"POST /points/transactions/{id}/reversal": {`{"account_id":"derick"}`},
}

// hostileBodies are sent to every route: nesting past the decoder's depth,
// keys given twice or in another case, numbers out of range, NUL and
// invalid UTF-8, data after the object, wrong types, a body over the limit.
var hostileBodies = []string{
	strings.Repeat("[", 100000), strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000),
	`{"account_id":"derick","account_id":"ann","amount":1}`, `{"account_id":"derick","ACCOUNT_ID":"ann","amount":1}`,
	`{"user_id":"ann","USER_ID":"derick","items":[{"product_id":"1","quantity":1}]}`,
	`{"client":"UnicornStore","Client":"Other","campaign_name":"x","rules":[]}`,
	`{"amount":1e999999999}`, `{"amount":-1e-999999999}`, `{"amount":` + strings.Repeat("9", 10000) + `}`, `{"amount":9223372036854775808}`,
	`{"delta":-9223372036854775808}`, `{"price":0.001,"stock":1e40}`, `{"points_per_amount":1e40,"fixed_points":-1}`,
	"\x00", `{"account_id":"der\u0000ick","amount":1}`, "{\"username\":\"\xff\xfe\"}", `{"a":"\ud800"}`,
	`{} {}`, `{}garbage`, `{}` + "\n\n", `[]`, `null`, `"x"`, `1`, ``, ` `,
	`{"rules":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"}`,
	`{"client":"UnicornStore","event":` + strings.Repeat(`{"a":`, 50) + "1" + strings.Repeat("}", 50) + `}`,
	`{"items":[` + strings.TrimSuffix(strings.Repeat(`{"product_id":"1","quantity":100},`, 1000), ",") + `]}`,
	`{"reference":"` + strings.Repeat("r", limits.BodyBytes) + `"}`,
}

// fuzzRoute is a route with a body and the callers that may send it.
type fuzzRoute struct {
	method, pattern, path string
	callers               []caller
}

// caller is a principal of the access matrix and its Authorization value
// ("" for none).
type caller struct{ name, auth string }

// FuzzRequestBodies: no body makes any route that reads one answer 5xx,
// whoever of its callers sends it. Every request carries credentials the
// route admits (an admin of the store; a customer and an API key where
// the route takes them; none where it needs none), checked before
// fuzzing, so bodies reach the decoding and the domains, not the guard;
// a 401 fails the run (but on the sign-in routes, which answer a wrong
// password or refresh token with one). Every 4xx is a problem+json whose status is the
// response's.
func FuzzRequestBodies(f *testing.F) {
	a := newAPI(f, 365, purchaseWait(time.Millisecond))
	who := map[string]string{
		boss:     a.auth,
		derick:   a.user("derick", ports.RoleCustomer, "UnicornStore"),
		keyWrite: a.apiKey("points:read", "points:write"),
	}
	a.user("ann", ports.RoleCustomer, "UnicornStore")
	ctx := context.Background()
	a.must(201, "POST", "/campaigns", seedCampaign)
	now := a.clock.Now()
	if _, _, err := a.db.Orders().Create(ctx, ports.Order{ID: "o-derick", UserID: "derick", Client: "UnicornStore", Status: ports.OrderPending,
		Attempt: 1, Total: decimal.NewFromInt(1), Charged: decimal.NewFromInt(1), CreatedAt: now, UpdatedAt: now, Version: 1}); err != nil {
		f.Fatal(err)
	}
	if err := a.db.Catalog().Save(ctx, ports.Product{ID: "1", Name: "Unicorn", Price: decimal.NewFromInt(1), Stock: 1000000, Version: 1, UpdatedAt: now}); err != nil {
		f.Fatal(err)
	}
	a.must(201, "POST", "/users/derick/wallet/deposits", `{"amount":1000000}`)
	tx := a.must(201, "POST", "/points", `{"account_id":"derick","amount":1000}`)

	var routes []fuzzRoute
	for _, rt := range httpapi.RouteTable() {
		method, _, _ := strings.Cut(rt.Pattern, " ")
		if method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions {
			continue
		}
		m, ok := matrix[rt.Pattern]
		if !ok {
			f.Fatalf("route %s has no request in the access matrix", rt.Pattern)
		}
		r := fuzzRoute{method: method, pattern: rt.Pattern, path: strings.Replace(m.path, "/nope/reversal", "/"+tx["id"].(string)+"/reversal", 1)}
		for _, p := range []string{boss, derick, keyWrite} {
			if rt.Anonymous {
				// Sent without credentials: POST /auth/logout would end
				// the admin's session.
				r.callers = []caller{{name: anonymous}}
				break
			}
			for _, allowed := range m.allowed {
				if allowed == p || allowed == everyone || allowed == signedInAs {
					r.callers = append(r.callers, caller{p, who[p]})
					break
				}
			}
		}
		routes = append(routes, r)
		bodies := append(append([]string{}, validBodies[rt.Pattern]...), m.body)
		for _, body := range bodies {
			f.Add(uint8(len(routes)-1), body)
		}
		for _, body := range hostileBodies {
			f.Add(uint8(len(routes)-1), body)
		}
	}
	send := func(r fuzzRoute, auth, body string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		req := httptest.NewRequest(r.method, r.path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		a.srv.Config.Handler.ServeHTTP(w, req)
		return w
	}
	// The callers are admitted: a valid request of each is not refused
	// for who sends it.
	for _, r := range routes {
		body := append(append([]string{}, validBodies[r.pattern]...), matrix[r.pattern].body)[0]
		for _, c := range r.callers {
			if w := send(r, c.auth, body); c.name != anonymous && (w.Code == http.StatusUnauthorized || w.Code == http.StatusForbidden) {
				f.Fatalf("%s: %s is refused: %d %s", r.pattern, c.name, w.Code, w.Body)
			}
		}
	}
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		r := routes[int(route)%len(routes)]
		for _, c := range r.callers {
			w := send(r, c.auth, body)
			what := func() string {
				short := body
				if len(short) > 200 {
					short = short[:200] + "..."
				}
				return fmt.Sprintf("%s %s %q as %s", r.method, r.path, short, c.name)
			}
			switch {
			case w.Code >= 500:
				t.Fatalf("%s: status %d %s", what(), w.Code, w.Body)
			case w.Code == http.StatusUnauthorized && c.name != anonymous:
				t.Fatalf("%s: 401 %s: the credentials were refused, so the body was never read", what(), w.Body)
			case w.Code >= 400:
				checkProblem(t, what(), w)
			}
		}
	})
}

// checkProblem asserts that an error answer is an RFC 9457 problem whose
// status is the answer's.
func checkProblem(t *testing.T, what string, w *httptest.ResponseRecorder) {
	t.Helper()
	mt, _, err := mime.ParseMediaType(w.Header().Get("Content-Type"))
	if err != nil || mt != "application/problem+json" {
		t.Fatalf("%s: %d with Content-Type %q, not application/problem+json: %s", what, w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	var p struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
	}
	dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
	if err := dec.Decode(&p); err != nil || dec.More() {
		t.Fatalf("%s: %d with a problem that is not one JSON object (%v): %s", what, w.Code, err, w.Body)
	}
	if p.Status != w.Code || p.Type == "" || p.Title == "" {
		t.Fatalf("%s: answered %d with the problem %s", what, w.Code, w.Body)
	}
}
