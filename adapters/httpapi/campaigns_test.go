package httpapi_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/limits"
	"github.com/unicornstore/unicorn/ports"
)

// seedCampaign is seed 003's CampaignTable item, rules stored as a string.
const seedCampaign = `{"client":"UnicornStore","campaign_name":"1","rules":"[{\"variable\":\"$.amount\",\"condition\": {\"rule\": \"numeric_greater_than\",\"value\": 100},\"action\" : {\"command\" : \"issue\",\"formula\" : \"$.amount/10\"}}]"}`

func TestCampaignLifecycle(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	a.auth = a.user("mia", "marketer", "UnicornStore")
	r := a.do("POST", "/campaigns", seedCampaign)
	if r.status != 201 || r.header.Get("ETag") != `"1"` || r.header.Get("Location") != "/campaigns/1?client=UnicornStore" {
		t.Fatalf("create: %d, ETag %s, Location %s\n%s", r.status, r.header.Get("ETag"), r.header.Get("Location"), r.body)
	}
	c := r.json(t)
	rules, _ := c["rules"].([]any)
	if c["campaign_name"] != "1" || c["status"] != "active" || c["rounding"] != "floor" || len(rules) != 1 || c["updated_by"] != "mia" || num(c["version"]) != 1 {
		t.Errorf("created campaign = %v", c)
	}
	a.must(409, "POST", "/campaigns", seedCampaign)

	list := a.must(200, "GET", "/campaigns?client=UnicornStore", "")
	if num(list["count"]) != 1 {
		t.Errorf("list = %v", list)
	}
	if list := a.must(200, "GET", "/campaigns", ""); num(list["count"]) != 1 {
		t.Errorf("list of the marketer's own client = %v", list)
	}
	a.must(403, "GET", "/campaigns?client=Elsewhere", "") // another client's
	if r := a.do("GET", "/campaigns/1", ""); r.status != 200 || r.header.Get("ETag") != `"1"` {
		t.Errorf("get: %d %s", r.status, r.header.Get("ETag"))
	}

	// Edits go through If-Match: a stale one is refused.
	r = a.do("PATCH", "/campaigns/1?client=UnicornStore", `{"status":"paused","priority":5}`, "If-Match", `"1"`)
	if r.status != 200 || r.header.Get("ETag") != `"2"` {
		t.Fatalf("patch: %d %s\n%s", r.status, r.header.Get("ETag"), r.body)
	}
	if c := r.json(t); c["status"] != "paused" || num(c["priority"]) != 5 || len(c["rules"].([]any)) != 1 {
		t.Errorf("patched = %v", c)
	}
	a.must(412, "PATCH", "/campaigns/1", `{"status":"active"}`, "If-Match", `"1"`)
	a.must(412, "DELETE", "/campaigns/1", "", "If-Match", `"1"`)
	a.must(400, "PATCH", "/campaigns/1", `{"campaign_name":"2"}`, "If-Match", `"2"`)
	a.must(400, "PATCH", "/campaigns/1", `{"rounding":"sideways"}`, "If-Match", `"2"`)
	a.must(400, "PATCH", "/campaigns/1", `[1]`)
	a.must(400, "PATCH", "/campaigns/1", `{"priority":7} {"status":"paused"}`, "If-Match", `"2"`) // trailing data
	a.must(400, "PATCH", "/campaigns/1", `{}`, "If-Match", `soon`)
	// null removes a setting (JSON merge patch).
	if c := a.must(200, "PATCH", "/campaigns/1", `{"priority":null,"max_points_per_purchase":50}`, "If-Match", `"2"`); num(c["priority"]) != 0 || num(c["max_points_per_purchase"]) != 50 {
		t.Errorf("merge patch = %v", c)
	}
	if r := a.do("DELETE", "/campaigns/1", "", "If-Match", `"3"`); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	a.must(404, "GET", "/campaigns/1", "")
	a.must(404, "PATCH", "/campaigns/1", `{"status":"active"}`)

	versions := a.must(200, "GET", "/campaigns/1/versions", "")
	items := versions["items"].([]any)
	if len(items) != 4 {
		t.Fatalf("%d versions, want 4", len(items))
	}
	last := items[3].(map[string]any)
	if last["deleted"] != true || num(last["version"]) != 4 || items[1].(map[string]any)["campaign"].(map[string]any)["status"] != "paused" {
		t.Errorf("versions = %v", items)
	}
	// The name can be used again; versions continue.
	if c := a.must(201, "POST", "/campaigns", seedCampaign); num(c["version"]) != 5 {
		t.Errorf("re-created at version %v, want 5", c["version"])
	}
	a.must(404, "GET", "/campaigns/nope/versions", "")
}

// TestBadCampaigns: each mistake is a 400 naming its field, and for a
// formula the position.
func TestBadCampaigns(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	withRule := func(r string) string {
		return `{"client":"UnicornStore","campaign_name":"x","rules":[` + r + `]}`
	}
	cond := `"variable":"$.amount","condition":{"rule":"numeric_greater_than","value":100}`
	tests := []struct {
		name, body, field string
		position          int
	}{
		{"bad JSONPath", withRule(`{"variable":"$..[","condition":{"rule":"is_present"},"action":{"command":"issue","formula":"1"}}`), "rules[0].variable", -1},
		{"unknown operator", withRule(`{"variable":"$.amount","condition":{"rule":"bigger","value":1},"action":{"command":"issue","formula":"1"}}`), "rules[0].condition.rule", -1},
		{"value of the wrong type", withRule(`{"variable":"$.amount","condition":{"rule":"numeric_less_than","value":"x"},"action":{"command":"issue","formula":"1"}}`), "rules[0].condition.value", -1},
		{"unknown identifier", withRule(`{` + cond + `,"action":{"command":"issue","formula":"$.amount / ten"}}`), "rules[0].action.formula", 11},
		{"function not allowed", withRule(`{` + cond + `,"action":{"command":"issue","formula":"upper($.amount)"}}`), "rules[0].action.formula", 0},
		{"division by zero", withRule(`{` + cond + `,"action":{"command":"issue","formula":"$.amount/0"}}`), "rules[0].action.formula", 8},
		{"division by a constant zero", withRule(`{` + cond + `,"action":{"command":"issue","formula":"$.amount / (2 - 2)"}}`), "rules[0].action.formula", 9},
		{"description too long", `{"client":"UnicornStore","campaign_name":"x","description":"` + strings.Repeat("x", 201) + `","rules":[{"action":{"command":"issue","formula":"1"}}]}`, "description", -1},
		{"formula too long", withRule(`{` + cond + `,"action":{"command":"issue","formula":"` + strings.Repeat("1+", 600) + `1"}}`), "rules[0].action.formula", -1},
		{"unknown field", `{"client":"UnicornStore","campaign_name":"x","rulez":[]}`, "rulez", -1},
		{"wrong type", `{"client":"UnicornStore","campaign_name":"x","priority":"high","rules":[]}`, "priority", -1},
		{"missing name", `{"client":"UnicornStore","rules":[{"action":{"command":"issue","formula":"1"}}]}`, "campaign_name", -1},
		{"bad schedule", `{"client":"UnicornStore","campaign_name":"x","starts_at":"monday","rules":[{"action":{"command":"issue","formula":"1"}}]}`, "starts_at", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Saving refuses the draft; validating answers with the same
			// problems as a result, not as a failed request.
			refused := a.must(400, "POST", "/campaigns", tt.body)
			checked := a.must(200, "POST", "/campaigns/validate", tt.body)
			if checked["valid"] != false {
				t.Errorf("validate said valid: %v", checked)
			}
			for _, p := range []map[string]any{refused, checked} {
				errs, _ := p["errors"].([]any)
				var found map[string]any
				for _, e := range errs {
					if e := e.(map[string]any); e["field"] == tt.field {
						found = e
					}
				}
				if found == nil {
					t.Fatalf("no error at %s: %v", tt.field, p)
				}
				if tt.position >= 0 && (found["position"] == nil || num(found["position"]) != int64(tt.position)) {
					t.Errorf("position = %v, want %d", found["position"], tt.position)
				}
			}
		})
	}
	if list := a.must(200, "GET", "/campaigns", ""); num(list["count"]) != 0 {
		t.Errorf("a bad campaign was saved: %v", list)
	}
	ok := a.must(200, "POST", "/campaigns/validate", seedCampaign)
	if ok["valid"] != true || len(ok["errors"].([]any)) != 0 {
		t.Errorf("validate a good campaign = %v", ok)
	}
	if notJSON := a.must(200, "POST", "/campaigns/validate", `[1,2`); notJSON["valid"] != false {
		t.Errorf("validate broken JSON = %v", notJSON)
	}
	if list := a.must(200, "GET", "/campaigns", ""); num(list["count"]) != 0 {
		t.Errorf("validating saved a campaign: %v", list)
	}
}

// TestSimulateWithActive: a draft simulated with_active counts beside the
// client's active saved campaigns, and replaces the saved one of its name.
func TestSimulateWithActive(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	a.must(201, "POST", "/campaigns", seedCampaign) // 1 point per 10.00 over 100.00
	a.must(201, "POST", "/campaigns", `{"client":"UnicornStore","campaign_name":"asleep","status":"paused","rules":[{"action":{"command":"issue","formula":"1000"}}]}`)
	extra := `{"campaign_name":"extra","rules":[{"action":{"command":"issue","formula":"$.amount/100"}}]}`
	alone := a.must(200, "POST", "/campaigns/simulate", `{"event":{"amount":1700},"campaign":`+extra+`}`)
	if num(alone["total"]) != 17 {
		t.Errorf("draft alone = %v, want 17", alone)
	}
	both := a.must(200, "POST", "/campaigns/simulate", `{"event":{"amount":1700},"with_active":true,"campaign":`+extra+`}`)
	lines := both["breakdown"].([]any)
	if num(both["total"]) != 170+17 || len(lines) != 2 {
		t.Fatalf("draft with the active campaigns = %v, want 187 from 2 lines", both)
	}
	// The saved campaign's line names its version; the draft's, 0.
	versions := map[any]any{}
	for _, l := range lines {
		versions[l.(map[string]any)["campaign_name"]] = l.(map[string]any)["campaign_version"]
	}
	if versions["1"] != 1.0 || versions["extra"] != 0.0 {
		t.Errorf("lines = %v", lines)
	}
	// A draft of a saved campaign stands in for it: 1 point per 5.00, not
	// that and the saved 1 per 10.00 both.
	changed := `{"campaign_name":"1","rules":[{"action":{"command":"issue","formula":"$.amount/5"}}]}`
	if res := a.must(200, "POST", "/campaigns/simulate", `{"event":{"amount":1700},"with_active":true,"campaign":`+changed+`}`); num(res["total"]) != 340 {
		t.Errorf("changed draft with the active campaigns = %v, want 340", res)
	}
	// with_active false is the draft alone; without a draft, the saved set.
	if res := a.must(200, "POST", "/campaigns/simulate", `{"event":{"amount":1700},"with_active":false,"campaign":`+extra+`}`); num(res["total"]) != 17 {
		t.Errorf("with_active false = %v, want 17", res)
	}
	if res := a.must(200, "POST", "/campaigns/simulate", `{"event":{"amount":1700},"with_active":true}`); num(res["total"]) != 170 {
		t.Errorf("with_active without a draft = %v, want 170", res)
	}
	// The draft's problems are still the draft's.
	p := a.must(400, "POST", "/campaigns/simulate", `{"event":{"amount":1},"with_active":true,"campaign":{"rules":[{"action":{"command":"issue","formula":"$.amount % 2"}}]}}`)
	if p["errors"].([]any)[0].(map[string]any)["field"] != "campaign.rules[0].action.formula" {
		t.Errorf("draft error = %v", p)
	}
	a.must(400, "POST", "/campaigns/simulate", `{"event":{"amount":1},"with_active":"yes"}`)
}

func TestSimulate(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	a.must(201, "POST", "/campaigns", seedCampaign)
	res := a.must(200, "POST", "/campaigns/simulate", `{"client":"UnicornStore","event":{"username":"derick","amount":1705}}`)
	lines := res["breakdown"].([]any)
	l := lines[0].(map[string]any)
	if num(res["total"]) != 170 || len(lines) != 1 || l["raw"] != 170.5 || l["formula"] != "$.amount/10" || l["inputs"].(map[string]any)["$.amount"] != 1705.0 {
		t.Errorf("simulate saved = %v", res)
	}
	// A draft, with its own rounding, without saving it.
	res = a.must(200, "POST", "/campaigns/simulate", `{"event":{"amount":1705},"campaign":{"rounding":"ceil","rules":[{"action":{"command":"issue","formula":"$.amount/10"}}]}}`)
	if num(res["total"]) != 171 {
		t.Errorf("simulate draft = %v", res)
	}
	p := a.must(400, "POST", "/campaigns/simulate", `{"event":{"amount":1},"campaign":{"rules":[{"action":{"command":"issue","formula":"$.amount % 2"}}]}}`)
	if p["errors"].([]any)[0].(map[string]any)["field"] != "campaign.rules[0].action.formula" {
		t.Errorf("draft error = %v", p)
	}
	a.must(400, "POST", "/campaigns/simulate", `{"client":"UnicornStore"}`)
	a.must(400, "POST", "/campaigns/simulate", `{"event":[1,2]}`)
	// Simulating issues nothing.
	if bal := a.must(200, "GET", "/points?account_id=derick", ""); num(bal["balance"]) != 0 {
		t.Errorf("simulation issued points: %v", bal)
	}
	a.must(404, "GET", "/campaigns/draft", "") // the draft was not saved
}

func TestAwardOverHTTP(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	a.must(201, "POST", "/campaigns", seedCampaign)
	award := a.must(200, "POST", "/points/awards", `{"client":"UnicornStore","username":"derick","order_id":"42","amount":1700}`)
	tx := award["transaction"].(map[string]any)
	if num(award["total"]) != 170 || tx["reference"] != "order:42" || num(tx["amount"]) != 170 {
		t.Fatalf("award = %v", award)
	}
	again := a.must(200, "POST", "/points/awards", `{"client":"UnicornStore","username":"derick","order_id":"42","amount":1700}`)
	if again["transaction"].(map[string]any)["id"] != tx["id"] || num(again["total"]) != 170 {
		t.Errorf("repeat = %v", again)
	}
	if bal := a.must(200, "GET", "/points?account_id=derick", ""); num(bal["balance"]) != 170 {
		t.Errorf("balance = %v, want 170", bal["balance"])
	}
	// "Why did I get 170 points?": the breakdown is on the transaction.
	hist := a.must(200, "GET", "/points/transactions?account_id=derick", "")
	details := hist["items"].([]any)[0].(map[string]any)["details"].(map[string]any)
	line := details["breakdown"].([]any)[0].(map[string]any)
	if details["order_id"] != "42" || line["campaign_name"] != "1" || num(line["points"]) != 170 || line["raw"] != 170.0 {
		t.Errorf("details = %v", details)
	}
	// Nothing earned: no transaction.
	small := a.must(200, "POST", "/points/awards", `{"username":"derick","order_id":"43","amount":100}`)
	if num(small["total"]) != 0 || small["transaction"] != nil {
		t.Errorf("award under the threshold = %v", small)
	}
	a.must(400, "POST", "/points/awards", `{"username":"derick","amount":1700}`)
	a.must(400, "POST", "/points/awards", `{"order_id":"44","amount":1700}`)
	a.must(400, "POST", "/points/awards", `{"username":"not valid","order_id":"44","amount":1700}`)
	a.must(400, "POST", "/points/awards", `[]`)
}

func TestAwardBudget(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	a.must(201, "POST", "/campaigns", `{"client":"UnicornStore","campaign_name":"launch","budget":250,
		"rules":[{"action":{"command":"issue","formula":"$.amount/10"}}]}`)
	first := a.must(200, "POST", "/points/awards", `{"username":"ann","order_id":"1","amount":1700}`)
	second := a.must(200, "POST", "/points/awards", `{"username":"bob","order_id":"2","amount":1700}`)
	third := a.must(200, "POST", "/points/awards", `{"username":"cid","order_id":"3","amount":1700}`)
	if num(first["total"]) != 170 || num(second["total"]) != 80 || num(third["total"]) != 0 {
		t.Errorf("totals %v, %v, %v; want 170, 80, 0", first["total"], second["total"], third["total"])
	}
	if note := second["breakdown"].([]any)[0].(map[string]any)["note"]; note != "capped by the campaign's remaining budget" {
		t.Errorf("note = %v", note)
	}
	if c := a.must(200, "GET", "/campaigns/launch", ""); num(c["awarded"]) != 250 {
		t.Errorf("awarded = %v, want 250", c["awarded"])
	}
	// A repeat takes nothing more from the budget.
	a.must(200, "POST", "/points/awards", `{"username":"ann","order_id":"1","amount":1700}`)
	if c := a.must(200, "GET", "/campaigns/launch", ""); num(c["awarded"]) != 250 {
		t.Errorf("awarded after a repeat = %v", c["awarded"])
	}
	sim := a.must(200, "POST", "/campaigns/simulate", `{"event":{"amount":1700}}`)
	if num(sim["total"]) != 0 {
		t.Errorf("simulation ignores the spent budget: %v", sim)
	}
}

// TestAwardConcurrently: the same order awarded 20 times at once issues
// its points once.
func TestAwardConcurrently(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	a.must(201, "POST", "/campaigns", seedCampaign)
	var wg sync.WaitGroup
	ids := make([]string, 20)
	for i := range 20 {
		wg.Go(func() {
			r := a.do("POST", "/points/awards", `{"username":"derick","order_id":"7","amount":1700}`)
			if r.status != 200 {
				t.Errorf("award %d: %d %s", i, r.status, r.body)
				return
			}
			ids[i] = fmt.Sprint(r.json(t)["transaction"].(map[string]any)["id"])
		})
	}
	wg.Wait()
	for i := range ids {
		if ids[i] != ids[0] {
			t.Errorf("award %d got transaction %s, award 0 got %s", i, ids[i], ids[0])
		}
	}
	if bal := a.must(200, "GET", "/points?account_id=derick", ""); num(bal["balance"]) != 170 {
		t.Errorf("balance = %v, want 170", bal["balance"])
	}
}

// TestAwardsPerClient: awards are idempotent per client and order id.
// Another client posting the store's order id gets an award of its own
// (from its own campaigns, to its own account), never the store's; two
// clients using order id 42 both keep their awards; a used order id with
// another event is a 422; and an award through the API cannot pre-empt the
// award of a store purchase, whose saga awards under a key of its own.
func TestAwardsPerClient(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365, purchaseWait(time.Minute))
	derick := a.shop() // seed 003's campaign for the store: a tenth of the amount
	a.user("olga", ports.RoleAdmin, "Other")
	other := a.clientKey("Other", "points:read", "points:write")
	olga := a.signIn("olga")
	a.must(201, "POST", "/campaigns", `{"client":"Other","campaign_name":"same","rules":[{"action":{"command":"issue","formula":"$.amount"}}]}`, "Authorization", olga)

	store := a.must(200, "POST", "/points/awards", `{"client":"UnicornStore","username":"derick","order_id":"42","amount":1700}`)
	theirs := a.must(200, "POST", "/points/awards", `{"username":"derick","order_id":"42","amount":1700}`, "Authorization", other)
	if num(store["total"]) != 170 || num(theirs["total"]) != 1700 {
		t.Fatalf("store's award %v, other client's %v; want 170 and 1700", store["total"], theirs["total"])
	}
	if theirs["transaction"].(map[string]any)["id"] == store["transaction"].(map[string]any)["id"] || strings.Contains(fmt.Sprint(theirs), `"1"`) {
		t.Errorf("the other client got the store's award: %v", theirs)
	}
	// Naming the store's client is refused, not answered from its awards.
	a.must(403, "POST", "/points/awards", `{"client":"UnicornStore","username":"derick","order_id":"42","amount":1700}`, "Authorization", other)
	// Each keeps its own: repeats answer the first, balances are apart.
	if again := a.must(200, "POST", "/points/awards", `{"client":"UnicornStore","username":"derick","order_id":"42","amount":1700}`); again["transaction"].(map[string]any)["id"] != store["transaction"].(map[string]any)["id"] {
		t.Errorf("store's repeat = %v", again)
	}
	if b := a.must(200, "GET", "/points?account_id=derick", "", "Authorization", derick); num(b["balance"]) != 170 {
		t.Errorf("derick's balance = %v, want 170", b["balance"])
	}
	if b := a.must(200, "GET", "/points?account_id=derick", "", "Authorization", other); num(b["balance"]) != 1700 {
		t.Errorf("other client's derick = %v, want 1700", b["balance"])
	}
	// The same order id with another event: 422, nothing issued.
	r := a.do("POST", "/points/awards", `{"client":"UnicornStore","username":"derick","order_id":"42","amount":1800}`)
	if r.status != http.StatusUnprocessableEntity {
		t.Errorf("changed award under a used order id: %d %s", r.status, r.body)
	}
	a.must(422, "POST", "/points/awards", `{"client":"UnicornStore","username":"ann","order_id":"42","amount":1700}`)

	// Pre-award a store purchase's order id (predictable from its
	// Idempotency-Key) through the API: the purchase still earns its own.
	sum := sha256.Sum256([]byte("derick\x00api:cart-1"))
	orderID := "o-" + hex.EncodeToString(sum[:12])
	a.must(200, "POST", "/points/awards", fmt.Sprintf(`{"username":"derick","order_id":%q,"amount":10000}`, orderID))
	a.runSagas()
	order := a.must(201, "POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"1","quantity":1}]}`,
		"Authorization", derick, "Idempotency-Key", "cart-1")
	if order["id"] != orderID || order["status"] != ports.OrderCompleted || num(order["points_awarded"]) != 100 {
		t.Fatalf("order = %v", order)
	}
	// The purchase's own points are pending through its return window.
	if b := a.must(200, "GET", "/points?account_id=derick", "", "Authorization", derick); num(b["balance"]) != 170+1000 || num(b["pending"]) != 100 {
		t.Errorf("derick's balance = %v and %v pending, want 1170 (the API's awards) and 100 (the purchase's own)", b["balance"], b["pending"])
	}
}

// TestCostlyRulesAndEventsAreRefused: the review's simulations (a
// recursive descent over a 17 KB event nested thousands deep took 16.5 s of
// CPU) are refused before any work, naming the limit.
func TestCostlyRulesAndEventsAreRefused(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	deep := `{"amount":1,"a":` + strings.Repeat("[", 8000) + strings.Repeat("]", 8000) + `}`
	body := `{"event":` + deep + `,"campaign":{"rules":[{"variable":"$..x","condition":{"rule":"is_present"},"action":{"command":"issue","formula":"1"}}]}}`
	p := a.must(400, "POST", "/campaigns/simulate", body)
	if e := p["errors"].([]any)[0].(map[string]any); e["field"] != "event" || !strings.Contains(e["message"].(string), "deeper than 8 levels") {
		t.Errorf("deep event: %v", p)
	}
	p = a.must(400, "POST", "/campaigns/simulate", `{"event":{"amount":1},"campaign":{"rules":[{"variable":"$..*..*","condition":{"rule":"is_present"},"action":{"command":"issue","formula":"1"}}]}}`)
	if e := p["errors"].([]any)[0].(map[string]any); e["field"] != "campaign.rules[0].variable" || !strings.Contains(e["message"].(string), "recursive descent") {
		t.Errorf("two descents: %v", p)
	}
	p = a.must(400, "POST", "/points/awards", `{"username":"derick","order_id":"9","amount":1,"a":`+strings.Repeat("[", 20)+strings.Repeat("]", 20)+`}`)
	if e := p["errors"].([]any)[0].(map[string]any); e["field"] != "event" {
		t.Errorf("deep award event: %v", p)
	}
}

// TestConcurrentAwardsKeepTheBudget: 20 orders awarded at once by a
// campaign with a budget of 250 get 250 points in all (the domain decides
// each grant; the store only refuses a grant decided on a stale total).
func TestConcurrentAwardsKeepTheBudget(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	a.must(201, "POST", "/campaigns", `{"client":"UnicornStore","campaign_name":"launch","budget":250,
		"rules":[{"action":{"command":"issue","formula":"$.amount/10"}}]}`)
	var mu sync.Mutex
	var total int64
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			r := a.do("POST", "/points/awards", fmt.Sprintf(`{"username":"u%d","order_id":"c%d","amount":170}`, i, i))
			if r.status != 200 {
				t.Errorf("award %d: %d %s", i, r.status, r.body)
				return
			}
			mu.Lock()
			total += num(r.json(t)["total"])
			mu.Unlock()
		})
	}
	wg.Wait()
	if c := a.must(200, "GET", "/campaigns/launch", ""); total != 250 || num(c["awarded"]) != 250 {
		t.Errorf("awarded %d in answers, %v in the budget; want 250", total, c["awarded"])
	}
}

// TestCampaignsPerClient: a client may have limits.CampaignsPerClient
// campaigns; deleted ones do not count.
func TestCampaignsPerClient(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	create := func(name string) response {
		return a.do("POST", "/campaigns", `{"client":"UnicornStore","campaign_name":"`+name+`","status":"paused","rules":[{"action":{"command":"issue","formula":"$.amount/10"}}]}`)
	}
	for i := range limits.CampaignsPerClient {
		if r := create(fmt.Sprint("c", i)); r.status != 201 {
			t.Fatalf("campaign %d: %d %s", i, r.status, r.body)
		}
	}
	r := create("one-more")
	if r.status != 400 || !strings.Contains(string(r.body), `"field":"client"`) || !strings.Contains(string(r.body), "the most a client may have") {
		t.Errorf("one campaign more: %d %s", r.status, r.body)
	}
	if r := a.do("DELETE", "/campaigns/c0", ""); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := create("one-more"); r.status != 201 {
		t.Errorf("after a deletion: %d %s", r.status, r.body)
	}
}

// TestWarningsAndDescription: a path the purchase event does not have is a
// warning in the answers of validate, create and update; the public
// description is on every line of a breakdown.
func TestWarningsAndDescription(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	typo := `{"client":"UnicornStore","campaign_name":"typo","description":"1 point per 10 spent","status":"paused",
		"rules":[{"action":{"command":"issue","formula":"$.amont / 10"}}]}`
	warning := func(m map[string]any) map[string]any {
		t.Helper()
		w, _ := m["warnings"].([]any)
		if len(w) != 1 {
			t.Fatalf("warnings = %v", m["warnings"])
		}
		return w[0].(map[string]any)
	}
	v := a.must(200, "POST", "/campaigns/validate", typo)
	if w := warning(v); v["valid"] != true || w["field"] != "rules[0].action.formula" || num(w["position"]) != 0 || !strings.Contains(w["message"].(string), "did you mean amount?") {
		t.Errorf("validate = %v", v)
	}
	if ok := a.must(200, "POST", "/campaigns/validate", seedCampaign); ok["warnings"] == nil || len(ok["warnings"].([]any)) != 0 {
		t.Errorf("validate without warnings = %v", ok)
	}
	if w := warning(a.must(201, "POST", "/campaigns", typo)); w["field"] != "rules[0].action.formula" {
		t.Errorf("create warning = %v", w)
	}
	fixed := a.must(200, "PATCH", "/campaigns/typo", `{"rules":[{"variable":"$.tier","condition":{"rule":"is_present"},"action":{"command":"issue","formula":"$.amount / 10"}}]}`)
	if w := warning(fixed); w["field"] != "rules[0].variable" {
		t.Errorf("update warning = %v", w)
	}
	if created := a.must(201, "POST", "/campaigns", seedCampaign); created["warnings"] != nil {
		t.Errorf("warnings of a campaign without any = %v", created["warnings"])
	}
	a.must(200, "PATCH", "/campaigns/typo", `{"status":"active","rules":[{"action":{"command":"issue","formula":"$.amount / 10"}}]}`)
	award := a.must(200, "POST", "/points/awards", `{"username":"derick","order_id":"d1","amount":1700}`)
	for _, l := range award["breakdown"].([]any) {
		l := l.(map[string]any)
		want := map[string]any{"typo": "1 point per 10 spent", "1": nil}[l["campaign_name"].(string)]
		if l["description"] != want {
			t.Errorf("line %v: description %v, want %v", l["campaign_name"], l["description"], want)
		}
	}
}

// TestPointsCeiling: a client's ceiling on points per purchase, the
// server's by default and the admin's to change; a campaign that can give
// more cannot be made active, and no purchase earns more.
func TestPointsCeiling(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	boss := a.auth
	mia := a.user("mia", "marketer", "UnicornStore")
	c := a.must(200, "GET", "/points-ceiling", "")
	if c["client"] != "UnicornStore" || c["points_per_amount"] != 1.0 || num(c["fixed_points"]) != 0 || c["default"] != true ||
		c["text"] != "1 point per 1.00 of the amount" {
		t.Errorf("default ceiling = %v", c)
	}

	a.auth = mia
	mint := `{"client":"UnicornStore","campaign_name":"mint","rules":[{"action":{"command":"issue","formula":"1e40"}}]}`
	want := "can give more than the client's ceiling of 1 point per 1.00 of the amount, e.g. up to 1e40 points for an amount of 100"
	refused := func(p map[string]any, field string) {
		t.Helper()
		for _, e := range p["errors"].([]any) {
			if e := e.(map[string]any); e["field"] == field && strings.Contains(e["message"].(string), want) {
				return
			}
		}
		t.Errorf("no refusal at %s: %v", field, p)
	}
	refused(a.must(400, "POST", "/campaigns", mint), "rules[0].action.formula")
	v := a.must(200, "POST", "/campaigns/validate", mint)
	if v["valid"] != false {
		t.Errorf("validate = %v", v)
	}
	refused(map[string]any{"errors": v["errors"]}, "rules[0].action.formula")
	// Paused, it may be saved; it may not be made active.
	a.must(201, "POST", "/campaigns", strings.Replace(mint, `"rules"`, `"status":"paused","rules"`, 1))
	refused(a.must(400, "PATCH", "/campaigns/mint", `{"status":"active"}`), "rules[0].action.formula")
	// An active campaign's rules may not change to give more.
	a.must(201, "POST", "/campaigns", seedCampaign)
	refused(a.must(400, "PATCH", "/campaigns/1", `{"rules":[{"action":{"command":"issue","formula":"1e40"}}]}`), "rules[0].action.formula")
	a.must(200, "PATCH", "/campaigns/1", `{"priority":3}`) // other changes are not checked
	a.must(403, "PUT", "/points-ceiling", `{"points_per_amount":1000}`)

	a.auth = boss
	for body, field := range map[string]string{
		`{"points_per_amount":-1}`:                        "points_per_amount",
		`{"points_per_amount":1,"fixed_points":-5}`:       "fixed_points",
		`{"points_per_amount":"1"}`:                       "points_per_amount",
		`{"fixed_points":5}`:                              "points_per_amount",
		`{"points_per_amount":0}`:                         "points_per_amount",
		`{"points_per_amount":1e10000000}`:                "points_per_amount",
		`{"points_per_amount":1,"fixed_points":1.5}`:      "fixed_points",
		`{"points_per_amount":1,"points_per_purchase":9}`: "",
	} {
		p := a.must(400, "PUT", "/points-ceiling", body)
		if field != "" && !strings.Contains(fmt.Sprint(p["errors"]), "field:"+field) {
			t.Errorf("PUT %s: %v, want an error at %s", body, p, field)
		}
	}
	r := a.do("PUT", "/points-ceiling", `{"points_per_amount":2,"fixed_points":50}`)
	if r.status != 200 || r.header.Get("ETag") != `"1"` {
		t.Fatalf("set: %d %s %s", r.status, r.header.Get("ETag"), r.body)
	}
	if c := a.must(200, "GET", "/points-ceiling?client=UnicornStore", ""); c["points_per_amount"] != 2.0 || num(c["fixed_points"]) != 50 ||
		c["default"] != false || num(c["version"]) != 1 || c["updated_by"] != "boss" || c["text"] != "2 points per 1.00 of the amount plus 50 points" {
		t.Errorf("set ceiling = %v", c)
	}
	a.must(412, "PUT", "/points-ceiling", `{"points_per_amount":3}`, "If-Match", `"7"`)
	a.must(403, "GET", "/points-ceiling?client=Other", "")

	// Under the higher ceiling a campaign giving twice the amount fits...
	a.auth = mia
	a.must(200, "PATCH", "/campaigns/1", `{"rules":[{"action":{"command":"issue","formula":"$.amount * 2"}}]}`)
	// ... and when the ceiling is lowered it stays active, capped.
	a.auth = boss
	a.must(200, "PUT", "/points-ceiling", `{"points_per_amount":1}`, "If-Match", `"1"`)
	award := a.must(200, "POST", "/points/awards", `{"username":"derick","order_id":"c1","amount":100}`)
	line := award["breakdown"].([]any)[0].(map[string]any)
	if num(award["total"]) != 100 || line["note"] != "capped by the most points a purchase of this amount can earn" {
		t.Errorf("award over the ceiling = %v", award)
	}
	sim := a.must(200, "POST", "/campaigns/simulate", `{"event":{"amount":100},"campaign":{"rules":[{"action":{"command":"issue","formula":"1e40"}}]}}`)
	if num(sim["total"]) != 100 {
		t.Errorf("simulated draft over the ceiling = %v", sim)
	}
}
