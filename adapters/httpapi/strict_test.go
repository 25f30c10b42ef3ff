package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/unicornstore/unicorn/ports"
)

// TestHostileFindings: what the hostile matrix found getting through,
// one row each, is refused with a problem naming what is wrong, and
// nothing is stored; the requests next to them are still taken.
func TestHostileFindings(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	a.user("derick", ports.RoleCustomer, "UnicornStore")
	a.must(201, "POST", "/campaigns", seedCampaign)
	a.must(201, "POST", "/products", `{"id":"1","name":"Unicorn","price":1,"stock":5}`)
	tx := a.must(201, "POST", "/points", `{"account_id":"derick","amount":100}`)
	reversal := fmt.Sprintf("/points/transactions/%s/reversal", tx["id"])
	draft := func(name string) string {
		return `{"client":"UnicornStore","campaign_name":"` + name + `","status":"paused","rules":[{"action":{"command":"issue","formula":"$.amount/10"}}]}`
	}
	tests := []struct {
		name, method, path, body string
		header                   []string
		status                   int
		field                    string
	}{
		// Data after the body's value, when it began with "]" or "}",
		// passed for none: the decoder's More reports false before them.
		{"issue followed by ]", "POST", "/points", `{"account_id":"derick","amount":1}]`, nil, 400, ""},
		{"redemption followed by }", "DELETE", "/points", `{"account_id":"derick","amount":1}}`, nil, 400, ""},
		{"reversal followed by ]", "POST", reversal, `{"account_id":"derick"}]`, nil, 400, ""},
		{"award followed by ]", "POST", "/points/awards", `{"client":"UnicornStore","username":"derick","order_id":"m1","amount":1700}]`, nil, 400, "event"},
		{"campaign followed by ]", "POST", "/campaigns", draft("c2") + "]", nil, 400, ""},
		{"change followed by }", "PATCH", "/campaigns/1?client=UnicornStore", `{"priority":2}}`, nil, 400, ""},
		// A body sent as something else than JSON was read as JSON.
		{"a form", "POST", "/points", `{"account_id":"derick","amount":1}`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "Content-Type"},
		{"text", "DELETE", "/points", `{"account_id":"derick","amount":1}`, []string{"Content-Type", "text/plain;charset=UTF-8"}, 415, "Content-Type"},
		{"multipart", "POST", "/users/derick/wallet/deposits", `{"amount":1}`, []string{"Content-Type", "multipart/form-data; boundary=x"}, 415, "Content-Type"},
		{"JSON in Latin-1", "POST", "/campaigns", draft("c3"), []string{"Content-Type", "application/json; charset=iso-8859-1"}, 415, "Content-Type"},
		{"no media type", "POST", "/products/1/stock", `{"delta":1}`, []string{"Content-Type", "json"}, 415, "Content-Type"},
		// A name given twice was read as its last, or, differing in case,
		// as one field: another reader may take the first, or both.
		{"a name twice", "POST", "/points", `{"account_id":"derick","amount":1,"amount":1}`, nil, 400, "amount"},
		{"a name twice, in another case", "POST", "/points", `{"account_id":"derick","amount":1,"AMOUNT":1}`, nil, 400, "AMOUNT"},
		{"a name twice in a line", "POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"1","quantity":1,"quantity":1}]}`, nil, 400, "quantity"},
		{"a name twice in a campaign", "POST", "/campaigns", `{"client":"UnicornStore","client":"UnicornStore","campaign_name":"c4","rules":[]}`, nil, 400, "client"},
		{"a name twice in an event", "POST", "/points/awards", `{"client":"UnicornStore","username":"derick","order_id":"m2","amount":1,"amount":1700}`, nil, 400, "amount"},
		{"a name twice in a change", "PATCH", "/campaigns/1?client=UnicornStore", `{"priority":2,"Priority":3}`, nil, 400, "Priority"},
		// Bytes that are not UTF-8 were stored as U+FFFD.
		{"a reference not in UTF-8", "POST", "/points", "{\"account_id\":\"derick\",\"amount\":1,\"reference\":\"r\xff\"}", nil, 400, ""},
		{"a name not in UTF-8", "PUT", "/products/1", "{\"name\":\"Uni\xffcorn\",\"price\":1}", nil, 400, ""},
		// A parameter given twice was read as its first; a malformed query
		// lost the pairs the parser dropped.
		{"a parameter twice", "GET", "/points?account_id=derick&account_id=derick", "", nil, 400, "account_id"},
		{"a parameter twice, differently", "GET", "/points/transactions?account_id=derick&limit=10&limit=x", "", nil, 400, "limit"},
		{"a client twice", "PUT", "/points-ceiling?client=UnicornStore&client=Other", `{"points_per_amount":1}`, nil, 400, "client"},
		{"a bad escape", "GET", "/points/transactions?account_id=derick&cursor=%zz", "", nil, 400, ""},
		{"a semicolon", "GET", "/points/transactions?account_id=derick&limit=1;x", "", nil, 400, ""},
		{"a search twice", "GET", "/products?q=unicorn&q=x", "", nil, 400, "q"},
		// "." and ".." are dot segments: /products/.. is /.
		{"a product named ..", "POST", "/products", `{"id":"..","name":"Dots","price":1}`, nil, 400, "id"},
		{"a user named .", "POST", "/users", `{"username":".","role":"customer","password":"a-long-password-1"}`, nil, 400, "username"},
		{"a campaign named ..", "POST", "/campaigns", draft(".."), nil, 400, "campaign_name"},
		// A search for control characters or bytes that are not UTF-8.
		{"a search for NUL", "GET", "/products?q=uni%00corn", "", nil, 400, "q"},
		{"a search not in UTF-8", "GET", "/products?q=%FF", "", nil, 400, "q"},
	}
	before := storeState(t, a.db)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.do(tt.method, tt.path, tt.body, tt.header...)
			if r.status != tt.status || r.header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%s %s %q: %d %s, want %d problem+json", tt.method, tt.path, tt.body, r.status, r.body, tt.status)
			}
			p := r.json(t)
			if p["detail"] == "" || p["detail"] == nil {
				t.Errorf("problem without a detail: %v", p)
			}
			if tt.field != "" {
				errs, _ := p["errors"].([]any)
				if len(errs) == 0 || errs[len(errs)-1].(map[string]any)["field"] != tt.field {
					t.Errorf("errors = %v, want field %q", p["errors"], tt.field)
				}
			}
		})
	}
	if diff := stateDiff(before, storeState(t, a.db)); diff != "" {
		t.Errorf("refused requests changed the store:\n%s", diff)
	}

	// Next to them, still taken: JSON without a Content-Type or with its
	// charset, a JSON type of its own, white space after the body, names
	// alike in different objects, a search for words.
	for _, tt := range []struct {
		method, path, body string
		header             []string
		status             int
	}{
		{"POST", "/points", `{"account_id":"derick","amount":1}`, []string{"Content-Type", ""}, 201},
		{"POST", "/points", `{"account_id":"derick","amount":1}`, []string{"Content-Type", "application/json; charset=UTF-8"}, 201},
		{"PATCH", "/campaigns/1?client=UnicornStore", `{"priority":2}`, []string{"Content-Type", "application/merge-patch+json"}, 200},
		{"POST", "/campaigns", draft("c5"), nil, 201},
		{"POST", "/points", "{\"account_id\":\"derick\",\"amount\":1}\n\t ", nil, 201},
		{"POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"1","quantity":1},{"product_id":"1","quantity":1}]}`, []string{"Prefer", "respond-async"}, 202},
		{"GET", "/products?q=unicorn%20%F0%9F%A6%84", "", nil, 200},
		{"GET", "/points?account_id=derick&limit=10", "", nil, 200},
	} {
		if r := a.do(tt.method, tt.path, tt.body, tt.header...); r.status != tt.status {
			t.Errorf("%s %s %q %v: %d %s, want %d", tt.method, tt.path, tt.body, tt.header, r.status, r.body, tt.status)
		}
	}
	if strings.Contains(a.logs.String(), `"msg":"panic"`) {
		t.Errorf("a handler panicked:\n%s", excerpt(a.logs.String(), `"msg":"panic"`))
	}
}
