package campaign

import (
	"encoding/json"
	"fmt"
	"testing"
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
		res = Evaluate(campaigns, ev, now, nil)
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
		if _, err := json.Marshal(Evaluate(campaigns, ev, now, nil)); err != nil {
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
