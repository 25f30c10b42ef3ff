package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/domains/points"
	"github.com/unicornstore/unicorn/ports"
)

// savedCampaigns holds saved campaigns in memory. It reads only: a backtest
// that wrote a campaign, a budget or a setting would call the nil
// ports.Campaigns inside it, and panic.
type savedCampaigns struct {
	ports.Campaigns
	recs []ports.CampaignRecord
}

func (s *savedCampaigns) Get(_ context.Context, client, name string) (ports.CampaignRecord, error) {
	for _, r := range s.recs {
		if r.Client == client && r.Name == name {
			return r, nil
		}
	}
	return ports.CampaignRecord{}, ports.ErrNotFound
}

func (s *savedCampaigns) List(_ context.Context, client string) ([]ports.CampaignRecord, error) {
	var out []ports.CampaignRecord
	for _, r := range s.recs {
		if r.Client == client && !r.Deleted {
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *savedCampaigns) Setting(context.Context, string, string) (ports.SettingRecord, error) {
	return ports.SettingRecord{}, ports.ErrNotFound
}

// history is a purchase history in memory that answers pages of at most
// pageSize, and, from page block on (1 for the first), waits for the end
// of the backtest's context.
type history struct {
	purchases []ports.PurchaseCompleted
	pageSize  int
	block     int
	pages     int
}

func (h *history) Purchases(ctx context.Context, client string, since time.Time, cursor string, limit int) ([]ports.PurchaseCompleted, string, error) {
	h.pages++
	if h.block > 0 && h.pages >= h.block {
		<-ctx.Done()
	}
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	var all []ports.PurchaseCompleted
	for _, p := range h.purchases {
		if p.Client == client && !p.At.Before(since) {
			all = append(all, p)
		}
	}
	start := 0
	if cursor != "" {
		start, _ = strconv.Atoi(cursor)
	}
	end := min(len(all), start+min(limit, h.pageSize))
	if end == len(all) {
		return all[start:end], "", nil
	}
	return all[start:end], strconv.Itoa(end), nil
}

func ceilingOf(t *testing.T, s string) Ceiling {
	t.Helper()
	c, err := ParseCeiling(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// noLedger is a points ledger that no backtest may reach.
type noLedger struct{ ports.Ledger }

type noIDs struct{}

func (noIDs) NewID() string { panic("a backtest made an id") }

// backtestService is a service over saved campaigns and a history, at now.
func backtestService(t *testing.T, h *history, saved ...Draft) *Service {
	t.Helper()
	store := &savedCampaigns{}
	for _, d := range saved {
		c := mustCompile(t, d)
		def, err := json.Marshal(c.Draft())
		if err != nil {
			t.Fatal(err)
		}
		store.recs = append(store.recs, ports.CampaignRecord{Client: d.Client, Name: d.Name, Version: 3, Definition: def, UpdatedAt: now})
	}
	pts, err := points.NewService(points.Deps{Ledger: noLedger{}, Clock: fixedClock{now}, IDs: noIDs{}}, points.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewService(Deps{Store: store, Points: pts, Clock: fixedClock{now}, Purchases: h})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// bought is a completed purchase of one line at now + at: quantity units
// of product at price, charged charged, awarded awarded by campaign "1".
func bought(id, user string, at time.Duration, product string, quantity int64, price, charged string, awarded int64) ports.PurchaseCompleted {
	amount := decimal.RequireFromString(price).Mul(decimal.NewFromInt(quantity))
	p := ports.PurchaseCompleted{OrderID: id, UserID: user, Client: "UnicornStore", At: now.Add(at),
		Lines: []ports.OrderLine{{ProductID: product, Name: product, Quantity: quantity, UnitPrice: decimal.RequireFromString(price), Amount: amount}},
		Total: amount, Charged: decimal.RequireFromString(charged), PointsAwarded: awarded}
	if awarded > 0 {
		p.Campaigns = []ports.CampaignPoints{{Campaign: "1", Points: awarded}}
	}
	return p
}

// seedCampaign is seed 003's campaign: a tenth of the amount over 100.
var seedCampaign = Draft{Client: "UnicornStore", Name: "1", Rules: json.RawMessage(seedRule)}

// airDouble doubles what seed 003's campaign gives a purchase of unicorn
// air: a tenth of the line's amount more.
var airDouble = Draft{Name: "air-double", Rules: json.RawMessage(
	`[{"variable":"$.items[0].product_id","condition":{"rule":"string_equals","value":"air"},"action":{"command":"issue","formula":"$.items[0].amount/10"}}]`)}

// purchases are the client's purchases around now (2026-11-21 12:00 UTC).
func purchases() []ports.PurchaseCompleted {
	return []ports.PurchaseCompleted{
		bought("p0", "ann", -60*time.Hour-time.Second, "air", 1, "1000", "1000", 100), // 11-18 23:59:59: before the window
		bought("p1", "ann", -50*time.Hour, "air", 1, "1000", "1000", 100),             // 11-19 10:00
		bought("p2", "bob", -45*time.Hour, "pony", 2, "50", "100", 0),                 // 11-19 15:00: 100 is not over 100
		bought("p3", "ann", -3*time.Hour, "air", 2, "1000", "1500", 150),              // 11-21 09:00: points paid 500
		bought("p4", "cid", -time.Hour, "pony", 1, "500", "500", 60),                  // 11-21 11:00: a campaign since ended gave 10 more
		{OrderID: "x1", UserID: "ann", Client: "Other", At: now.Add(-time.Hour), PointsAwarded: 7},
		bought("p5", "dan", time.Hour, "air", 1, "1000", "1000", 100), // 13:00: after the backtest began
	}
}

func TestBacktestDraft(t *testing.T) {
	h := &history{purchases: purchases(), pageSize: 2}
	s := backtestService(t, h, seedCampaign)
	draft := airDouble
	got, err := s.Backtest(context.Background(), "UnicornStore", BacktestRequest{Days: 3, Draft: &draft})
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC)
	want := BacktestResult{Client: "UnicornStore", Campaign: "air-double", New: true, From: from, To: now, Purchases: 4, Note: BacktestNote,
		Days: []BacktestDay{
			{Day: "2026-11-19", BacktestPoints: BacktestPoints{Orders: 2, Given: 100, WouldGive: 200, CampaignWouldGive: 100}},
			{Day: "2026-11-20"},
			{Day: "2026-11-21", BacktestPoints: BacktestPoints{Orders: 2, Given: 210, WouldGive: 150 + 200 + 50, CampaignWouldGive: 200}},
		},
		Total: BacktestPoints{Orders: 4, Given: 310, WouldGive: 600, CampaignWouldGive: 300},
		Customers: []BacktestCustomer{
			{Username: "ann", Orders: 2, Given: 250, WouldGive: 550},
			{Username: "cid", Orders: 1, Given: 60, WouldGive: 50},
			{Username: "bob", Orders: 1},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Backtest (-want +got):\n%s", diff)
	}
	if h.pages != 3 {
		t.Errorf("read %d pages of 2 for 5 purchases, want 3", h.pages)
	}

	// The client's ceiling caps each purchase: at 0.15 points per 1.00,
	// the 1,000 of p1 earns 150, and the draft's line, the last, is cut.
	s.ceiling = ceilingOf(t, "0.15")
	got, err = s.Backtest(context.Background(), "UnicornStore", BacktestRequest{Days: 3, Draft: &draft})
	if err != nil {
		t.Fatal(err)
	}
	if d := got.Days[0]; d.WouldGive != 150 || d.CampaignWouldGive != 50 {
		t.Errorf("capped by the ceiling, 2026-11-19 = %+v; want 150 points, 50 of them the draft's", d)
	}
}

// A change to a saved campaign replaces it: what it gave is beside what
// it would give, whatever its status and schedule say.
func TestBacktestChange(t *testing.T) {
	paused := seedCampaign
	paused.Status, paused.EndsAt = StatusPaused, "2026-11-01T00:00:00Z"
	other := Draft{Client: "UnicornStore", Name: "flat", Rules: json.RawMessage(`[{"action":{"command":"issue","formula":"1"}}]`)}
	s := backtestService(t, &history{purchases: purchases(), pageSize: 500}, paused, other)
	got, err := s.Backtest(context.Background(), "UnicornStore", BacktestRequest{Days: 1, Name: "1",
		Patch: []byte(`{"rules":[{"action":{"command":"issue","formula":"$.amount/5"}}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	// Today: p3 (1,500 charged) and p4 (500): a fifth of each, and a point
	// each from "flat".
	today := BacktestPoints{Orders: 2, Given: 210, WouldGive: 300 + 100 + 2, CampaignGiven: 210, CampaignWouldGive: 400}
	if got.Campaign != "1" || got.New || len(got.Days) != 1 || got.Days[0].BacktestPoints != today || got.Total != today {
		t.Errorf("Backtest of a change = %+v", got)
	}
	// No patch: the campaign as it is, active throughout.
	got, err = s.Backtest(context.Background(), "UnicornStore", BacktestRequest{Days: 1, Name: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := (BacktestPoints{Orders: 2, Given: 210, WouldGive: 150 + 50 + 2, CampaignGiven: 210, CampaignWouldGive: 200}); got.Total != want {
		t.Errorf("Backtest of a campaign as it is = %+v, want %+v", got.Total, want)
	}
}

func TestBacktestRefusals(t *testing.T) {
	s := backtestService(t, &history{purchases: purchases(), pageSize: 500}, seedCampaign)
	ctx := context.Background()
	draft := airDouble
	named1 := airDouble
	named1.Name = "1"
	otherClient := airDouble
	otherClient.Client = "Other"
	dot := airDouble
	dot.Name = "."
	bad := airDouble
	bad.Rules = json.RawMessage(`[{"action":{"command":"issue","formula":"$.amount % 2"}}]`)
	for _, tt := range []struct {
		name  string
		req   BacktestRequest
		is    error
		field string
	}{
		{"no days", BacktestRequest{Draft: &draft}, ports.ErrInvalid, "days"},
		{"91 days", BacktestRequest{Days: 91, Draft: &draft}, ports.ErrInvalid, "days"},
		{"nothing to try", BacktestRequest{Days: 1}, ports.ErrInvalid, "campaign"},
		{"a draft and a name", BacktestRequest{Days: 1, Draft: &draft, Name: "1"}, ports.ErrInvalid, "campaign_name"},
		{"a draft and a patch", BacktestRequest{Days: 1, Draft: &draft, Patch: []byte(`{}`)}, ports.ErrInvalid, "patch"},
		{"an unknown campaign", BacktestRequest{Days: 1, Name: "nope", Patch: []byte(`{"priority":1}`)}, ErrNotFound, ""},
		{"a draft named as a saved campaign", BacktestRequest{Days: 1, Draft: &named1}, ErrInvalid, "campaign_name"},
		{"a draft of another client", BacktestRequest{Days: 1, Draft: &otherClient}, ErrInvalid, "client"},
		{"a draft named .", BacktestRequest{Days: 1, Draft: &dot}, ErrInvalid, "campaign_name"},
		{"a draft that does not compile", BacktestRequest{Days: 1, Draft: &bad}, ErrInvalid, "rules[0].action.formula"},
		{"a patch that does not compile", BacktestRequest{Days: 1, Name: "1", Patch: []byte(`{"rounding":"up"}`)}, ErrInvalid, "rounding"},
		{"a patch that renames", BacktestRequest{Days: 1, Name: "1", Patch: []byte(`{"campaign_name":"2"}`)}, ErrInvalid, "campaign_name"},
		{"a patch that is no object", BacktestRequest{Days: 1, Name: "1", Patch: []byte(`[]`)}, ErrInvalid, ""},
	} {
		_, err := s.Backtest(ctx, "UnicornStore", tt.req)
		if !errors.Is(err, tt.is) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.is)
			continue
		}
		var fe *ports.FieldError
		var ve *ValidationError
		switch {
		case errors.As(err, &fe) && fe.Field != tt.field:
			t.Errorf("%s: %v, want it at %s", tt.name, err, tt.field)
		case errors.As(err, &ve) && (len(ve.Problems) == 0 || ve.Problems[0].Field != tt.field):
			t.Errorf("%s: %v, want it at %s", tt.name, err, tt.field)
		}
	}
	// Without a purchase history there is no backtest.
	s.purchases = nil
	if _, err := s.Backtest(ctx, "UnicornStore", BacktestRequest{Days: 1, Draft: &draft}); err == nil {
		t.Error("a backtest without a purchase history answered")
	}
}

// A backtest stops at its bounds, says so and what it covered.
func TestBacktestBounds(t *testing.T) {
	ctx := context.Background()
	draft := airDouble
	t.Run("purchases", func(t *testing.T) {
		s := backtestService(t, &history{purchases: purchases(), pageSize: 500}, seedCampaign)
		s.backtest.purchases = 2
		got, err := s.Backtest(ctx, "UnicornStore", BacktestRequest{Days: 3, Draft: &draft})
		if err != nil {
			t.Fatal(err)
		}
		if !got.Truncated || got.StoppedBy != StoppedAtPurchases || got.Purchases != 2 || !got.To.Equal(now.Add(-45*time.Hour)) ||
			len(got.Days) != 1 || got.Total.Orders != 2 || got.Total.WouldGive != 200 {
			t.Errorf("Backtest past its purchases = %+v", got)
		}
		// Exactly as many purchases as the bound: all of them, not cut.
		s.backtest.purchases = 4
		if got, err := s.Backtest(ctx, "UnicornStore", BacktestRequest{Days: 3, Draft: &draft}); err != nil || got.Truncated || got.Purchases != 4 {
			t.Errorf("Backtest at its bound = %+v, %v", got, err)
		}
	})
	t.Run("time", func(t *testing.T) {
		// The second page never comes: the backtest runs out of time
		// waiting for it.
		s := backtestService(t, &history{purchases: purchases(), pageSize: 2, block: 2}, seedCampaign)
		s.backtest.time = 50 * time.Millisecond
		got, err := s.Backtest(ctx, "UnicornStore", BacktestRequest{Days: 3, Draft: &draft})
		if err != nil {
			t.Fatal(err)
		}
		if !got.Truncated || got.StoppedBy != StoppedAtTime || got.Purchases > 2 || got.Total.Orders != int64(got.Purchases) ||
			got.To.After(now) || got.To.Before(got.From) {
			t.Errorf("Backtest out of time = %+v", got)
		}
	})
	t.Run("a request that ends", func(t *testing.T) {
		s := backtestService(t, &history{purchases: purchases(), pageSize: 2}, seedCampaign)
		ended, cancel := context.WithCancel(ctx)
		cancel()
		if got, err := s.Backtest(ended, "UnicornStore", BacktestRequest{Days: 3, Draft: &draft}); !errors.Is(err, context.Canceled) {
			t.Errorf("Backtest of a request that ended = %+v, %v; want context.Canceled", got, err)
		}
	})
}

// More customers than a backtest lists: those it moves most, a gain
// before a loss of the same size.
func TestBacktestCustomers(t *testing.T) {
	var ps []ports.PurchaseCompleted
	for i := range 14 {
		// Customer i is given 100 and would get 10 * i from the draft
		// alone.
		p := bought(fmt.Sprint("o", i), fmt.Sprintf("c%02d", i), -time.Hour, "air", 1, strconv.Itoa(100*i), "0", 100)
		p.Campaigns = nil
		ps = append(ps, p)
	}
	s := backtestService(t, &history{purchases: ps, pageSize: 500})
	s.ceiling = ceilingOf(t, "0+10000")
	draft := airDouble
	got, err := s.Backtest(context.Background(), "UnicornStore", BacktestRequest{Days: 1, Draft: &draft})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range got.Customers {
		names = append(names, fmt.Sprintf("%s %+d", c.Username, c.Difference()))
	}
	// Differences from -100 (c00) to +30 (c13).
	want := []string{"c00 -100", "c01 -90", "c02 -80", "c03 -70", "c04 -60", "c05 -50", "c06 -40", "c13 +30", "c07 -30", "c12 +20"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("customers (-want +got):\n%s", diff)
	}
}

// The event of a completed purchase is the one the store evaluated when
// it was bought.
func TestPurchaseFromCompleted(t *testing.T) {
	p := ports.PurchaseCompleted{OrderID: "o1", UserID: "derick", Client: "UnicornStore", Total: decimal.RequireFromString("1710.10"),
		Charged: decimal.RequireFromString("1700.10"), PointsRedeemed: 1000, PointsAwarded: 170,
		Lines: []ports.OrderLine{
			{ProductID: "1", Name: "Unicorn", Quantity: 2, UnitPrice: decimal.RequireFromString("570.05"), Amount: decimal.RequireFromString("1140.10")},
			{ProductID: "2", Name: "Pony", Quantity: 1, UnitPrice: decimal.RequireFromString("570"), Amount: decimal.RequireFromString("570")}}}
	want := Purchase{Client: "UnicornStore", Username: "derick", OrderID: "o1", Amount: p.Charged, Total: p.Total, PointsRedeemed: 1000, Quantity: 3,
		Items: []PurchaseItem{
			{ProductID: "1", Name: "Unicorn", Quantity: 2, Price: decimal.RequireFromString("570.05"), Amount: decimal.RequireFromString("1140.10")},
			{ProductID: "2", Name: "Pony", Quantity: 1, Price: decimal.RequireFromString("570"), Amount: decimal.RequireFromString("570")}}}
	if diff := cmp.Diff(want, PurchaseFromCompleted(p)); diff != "" {
		t.Errorf("PurchaseFromCompleted (-want +got):\n%s", diff)
	}
}
