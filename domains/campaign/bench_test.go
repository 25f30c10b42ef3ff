package campaign

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/unicornstore/unicorn/limits"
)

// benchCampaigns builds n campaigns of 5 rules each, varied the way real
// ones are: thresholds and rates differ from campaign to campaign, so no two
// formulas are the same text.
func benchCampaigns(b *testing.B, n int) []*Campaign {
	var out []*Campaign
	for i := range n {
		rules := []string{
			fmt.Sprintf(`{"variable":"$.amount","condition":{"rule":"numeric_greater_than","value":%d},"action":{"command":"issue","formula":"$.amount / %d"}}`, 50+i*10, 10+i%7),
			fmt.Sprintf(`{"variable":"$.quantity","condition":{"rule":"numeric_greater_than_equals","value":%d},"action":{"command":"issue","formula":"$.quantity * %d"}}`, 1+i%4, 5+i%9),
			fmt.Sprintf(`{"variable":"$.tier","condition":{"rule":"string_in","value":["gold","platinum"]},"action":{"command":"issue","formula":"min($.amount * 0.0%d, %d)"}}`, 1+i%9, 100+i),
			fmt.Sprintf(`{"condition":{"all":[{"variable":"$.amount","rule":"numeric_between","value":[%d,%d]},{"not":{"variable":"$.coupon","rule":"is_present"}}]},"action":{"command":"issue","formula":"floor($.amount / %d) * 2"}}`, i*20, 5000+i*20, 100+i),
			fmt.Sprintf(`{"variable":"$.items[0].price","condition":{"rule":"numeric_greater_than","value":%d},"action":{"command":"issue","formula":"$.items[0].price * 0.%02d + $.items[0].quantity"}}`, 100+i*5, 1+i%97),
		}
		d := Draft{Client: "UnicornStore", Name: fmt.Sprintf("c%03d", i), Priority: i % 10, Rounding: []string{RoundFloor, RoundHalfEven, RoundCeil}[i%3],
			MaxPointsPerPurchase: 1000, Rules: json.RawMessage("[" + rules[0] + "," + rules[1] + "," + rules[2] + "," + rules[3] + "," + rules[4] + "]")}
		c, err := Compile(d)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

const benchEvent = `{"client":"UnicornStore","username":"derick","order_id":"42","amount":1705,"quantity":3,"tier":"gold",
	"items":[{"product_id":"1","price":1700,"quantity":1},{"product_id":"2","price":5,"quantity":2}]}`

// BenchmarkEvaluate100x5: one purchase event against 100 active campaigns
// of 5 rules each (the target: at most 100 µs per event).
func BenchmarkEvaluate100x5(b *testing.B) {
	campaigns := benchCampaigns(b, 100)
	ev, err := ParseEvent([]byte(benchEvent))
	if err != nil {
		b.Fatal(err)
	}
	var res Result
	for b.Loop() {
		res = evaluated(b, campaigns, ev, nil)
	}
	b.ReportMetric(float64(len(res.Lines)), "matching-rules")
}

// BenchmarkEvaluateAndEncode100x5 adds writing the breakdown as JSON, as an
// award or a simulation does.
func BenchmarkEvaluateAndEncode100x5(b *testing.B) {
	campaigns := benchCampaigns(b, 100)
	ev, err := ParseEvent([]byte(benchEvent))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := json.Marshal(evaluated(b, campaigns, ev, nil)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompile: checking and compiling one 5-rule campaign, as a save does.
func BenchmarkCompile(b *testing.B) {
	d := benchCampaigns(b, 1)[0].Draft()
	for b.Loop() {
		if _, err := Compile(d); err != nil {
			b.Fatal(err)
		}
	}
}

// worstRule is the costliest rule a campaign may hold, as far as
// measurements found: the most paths selecting several values allowed,
// each a recursive descent with the largest union (the costliest of the
// selectors measured on worstEvent), then plain paths through the deepest
// values, all different, until the campaign is as large as allowed. Every
// comparison is false, so every path is read. tag makes its paths differ
// from another campaign's, so that none is read once for two.
func worstRule(tag int) string {
	var parts []string
	for j := range limits.MultiValuePaths {
		keys := make([]string, limits.PathUnionKeys)
		for k := range keys { // indices of the deepest array, different for each path
			keys[k] = fmt.Sprint((tag*2*limits.PathUnionKeys + j*limits.PathUnionKeys + k) % 496)
		}
		parts = append(parts, fmt.Sprintf(`{"variable":"$..[%s]","rule":"is_present","value":false}`, strings.Join(keys, ",")))
	}
	size := 200
	for _, p := range parts {
		size += len(p) + 1
	}
	for i := 0; ; i++ {
		p := fmt.Sprintf(`{"variable":"$.a[0][0][0][0][0][%d].b%d_%d","rule":"is_present"}`, i%496, tag, i/496)
		if size+len(p)+1 > limits.CampaignBytes {
			break
		}
		parts, size = append(parts, p), size+len(p)+1
	}
	return `[{"condition":{"any":[` + strings.Join(parts, ",") + `]},"action":{"command":"issue","formula":"$.amount / 10"}}]`
}

func worstCampaigns(b *testing.B, n int) ([]*Campaign, Event) {
	var out []*Campaign
	for i := range n {
		c, err := Compile(Draft{Client: "UnicornStore", Name: fmt.Sprintf("c%03d", i), Rules: json.RawMessage(worstRule(i))})
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, c)
	}
	ev, err := ParseEvent([]byte(worstEvent()))
	if err != nil {
		b.Fatal(err)
	}
	return out, ev
}

// BenchmarkEvaluateWorstRule: the costliest rule allowed over the
// costliest event allowed.
func BenchmarkEvaluateWorstRule(b *testing.B) {
	campaigns, ev := worstCampaigns(b, 1)
	for b.Loop() {
		evaluated(b, campaigns, ev, nil)
	}
}

// BenchmarkEvaluateWorstClient: a client's campaigns as many as allowed,
// each the costliest rule, over the costliest event: the evaluation a
// purchase may face at worst, which limits.EvaluationTime cuts short.
func BenchmarkEvaluateWorstClient(b *testing.B) {
	campaigns, ev := worstCampaigns(b, limits.CampaignsPerClient)
	for b.Loop() {
		evaluated(b, campaigns, ev, nil)
	}
}

// BenchmarkCheckCeiling: the ceiling analysis of the most intricate
// campaign found (50 rules of 30 nested abs, each adding breakpoints), as
// an activation does; its work is bounded (analysisWork).
func BenchmarkCheckCeiling(b *testing.B) {
	var rules []string
	for i := range limits.RulesPerCampaign {
		f := "$.amount / 100"
		for j := range 30 {
			f = fmt.Sprintf("abs(%s - %d)", f, j*7+i)
		}
		rules = append(rules, fmt.Sprintf(`{"action":{"command":"issue","formula":%q}}`, f))
	}
	c, err := Compile(Draft{Client: "c", Name: "n", Rules: json.RawMessage("[" + strings.Join(rules, ",") + "]")})
	if err != nil {
		b.Fatal(err)
	}
	ceiling, _ := ParseCeiling("1000")
	for b.Loop() {
		_ = c.checkCeiling(ceiling)
	}
}
