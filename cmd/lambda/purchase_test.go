package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/domains/campaign"
	"github.com/unicornstore/unicorn/domains/identity"
	"github.com/unicornstore/unicorn/domains/points"
	"github.com/unicornstore/unicorn/domains/retail"
	"github.com/unicornstore/unicorn/ports"
)

const password = "a-password-for-the-cloud-test"

// testHash makes the test's users cheap to create.
var testHash = identity.HashParams{MemoryKiB: 64, Passes: 1, Lanes: 1}

// customer creates a store customer with money in the wallet and points
// in the account, and returns an access token.
func customer(t *testing.T, d deployment, name, money string, pts int64) string {
	t.Helper()
	ctx, svc := t.Context(), d.services()
	if _, err := svc.Identity.CreateUser(ctx, name, d.storeClient(), ports.RoleCustomer, password); err != nil {
		t.Fatal(err)
	}
	if money != "0" {
		if _, err := svc.Wallets.Deposit(ctx, name, decimal.RequireFromString(money), "test:"+name); err != nil {
			t.Fatal(err)
		}
	}
	if pts > 0 {
		if _, err := svc.Points.Issue(ctx, points.IssueCommand{Account: points.MustAccountID(d.storeClient(), name), Amount: pts, Key: "test:" + name}); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := svc.Identity.SignIn(ctx, name, password, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

func product(t *testing.T, d deployment, id, price string, stock int64) {
	t.Helper()
	if _, err := d.services().Catalog.Create(t.Context(), retail.ProductDraft{ID: id, Name: "Unicorn " + id, Price: decimal.RequireFromString(price), Stock: stock}); err != nil {
		t.Fatal(err)
	}
}

// tenthCampaign gives a point for every 10.00 of a purchase.
func tenthCampaign(t *testing.T, d deployment) {
	t.Helper()
	if _, err := d.services().Campaigns.Create(t.Context(), campaign.Draft{Client: d.storeClient(), Name: "tenth", Description: "A point for every 10.00",
		Rules: json.RawMessage(`[{"variable":"$.amount","condition":{"rule":"numeric_greater_than","value":0},"action":{"command":"issue","formula":"$.amount/10"}}]`)}, "test"); err != nil {
		t.Fatal(err)
	}
}

type orderView struct {
	ID             string           `json:"id"`
	Status         string           `json:"status"`
	FailureCode    string           `json:"failure_code"`
	PointsRedeemed int64            `json:"points_redeemed"`
	Charged        json.Number      `json:"charged"`
	PointsAwarded  int64            `json:"points_awarded"`
	Saga           []ports.SagaStep `json:"saga"`
	Lines          []lineView       `json:"lines"`
	Returns        []returnView     `json:"returns"`
}

var keys sync.Map

// purchase posts a purchase (answered at once, as the web app asks) and
// follows the order until its saga has ended.
func purchase(t *testing.T, d deployment, token, body string) orderView {
	t.Helper()
	key := fmt.Sprintf("k%d", time.Now().UnixNano())
	if _, dup := keys.LoadOrStore(key, true); dup {
		key += "x"
	}
	status, resp := d.call(t, http.MethodPost, "/purchase", token, body, "Idempotency-Key", key, "Prefer", "respond-async")
	var o orderView
	if status/100 != 2 || json.Unmarshal([]byte(resp), &o) != nil || o.ID == "" {
		t.Fatalf("POST /purchase = %d %s", status, resp)
	}
	return follow(t, d, token, o.ID)
}

// follow polls GET /orders/{id} until the order's saga has ended, with a
// deadline far beyond what it needs.
func follow(t *testing.T, d deployment, token, id string) orderView {
	t.Helper()
	var o orderView
	waitFor(t, "order "+id+" to end", func() bool {
		status, resp := d.call(t, http.MethodGet, "/orders/"+id, token, "")
		if status != http.StatusOK || json.Unmarshal([]byte(resp), &o) != nil {
			t.Fatalf("GET /orders/%s = %d %s", id, status, resp)
		}
		return o.Status != "pending" && slices.ContainsFunc(o.Saga, func(s ports.SagaStep) bool { return s.Step == "Saga" })
	})
	return o
}

// taskSteps are an order's task steps as "Step:status[:error]", and the
// run's end: what both shapes record alike (the local executor also shows
// the Catch that routed a failure, which a task cannot see).
func taskSteps(o orderView) []string {
	var out []string
	for _, s := range o.Saga {
		if s.Status == "caught" || s.Status == "retrying" {
			continue
		}
		e := s.Step + ":" + s.Status
		if s.Error != "" {
			e += ":" + s.Error
		}
		out = append(out, e)
	}
	return out
}

func stockOf(t *testing.T, d deployment, id string) int64 {
	t.Helper()
	p, err := d.stores().Catalog.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p.Stock
}

func walletOf(t *testing.T, d deployment, user string) decimal.Decimal {
	t.Helper()
	w, err := d.stores().Wallets.Get(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	return w.Balance
}

// held is what the points read model holds for a user: the points left in
// the lots, and those pending (earned by a purchase still within its
// return window, not yet spendable).
type held struct{ Points, Pending int64 }

// readModelPoints is what the points read model holds for a user: on the
// cloud shape it is fed only by the ledger's stream, through the consumer
// function.
func readModelPoints(t *testing.T, d deployment, user string) held {
	t.Helper()
	v, err := d.stores().Balances.Get(t.Context(), points.MustAccountID(d.storeClient(), user).String())
	if err != nil && !errors.Is(err, ports.ErrNotFound) {
		t.Fatal(err)
	}
	var h held
	for _, l := range v.Lots {
		h.Points += l.Remaining
		h.Pending += l.Pending
	}
	return h
}

// waitTime bounds every wait: far beyond what a busy machine needs.
var waitTime = 3 * time.Minute

func waitFor(t *testing.T, what string, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTime)
	for delay := 20 * time.Millisecond; !done(); delay = min(2*delay, time.Second) {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", waitTime, what)
		}
		time.Sleep(delay)
	}
}

// end is where a purchase left the store.
type end struct {
	Status, Code      string
	Steps             []string
	Stock             int64
	Wallet            string
	Points            held // the read model's
	Redeemed, Awarded int64
	Charged           string
}

// testPurchases: each path of the saga, run on the cloud
// shape (API Gateway events to the api function, Step Functions running
// purchase.asl.json, task functions, streams into the read models), ends
// where the one-machine store ends: the same steps, order status, stock,
// money and points.
func testPurchases(t *testing.T, c *cloud, l *local) {
	for i, tc := range []struct {
		name     string
		stock    int64
		money    string
		points   int64
		quantity int
		redeem   int64
		want     end
	}{
		{"happy path", 5, "1000", 0, 2, 0, end{Status: "completed", Stock: 3, Wallet: "504", Points: held{Pending: 49}, Awarded: 49, Charged: "496",
			Steps: []string{"ReserveStock:started", "ReserveStock:succeeded", "ChargeWallet:started", "ChargeWallet:succeeded",
				"AwardPoints:started", "AwardPoints:succeeded", "CompleteOrder:started", "CompleteOrder:succeeded",
				"PublishPurchaseCompleted:started", "PublishPurchaseCompleted:succeeded", "Saga:succeeded"}}},
		{"paid partly with points", 5, "1000", 300, 1, 200, end{Status: "completed", Stock: 4, Wallet: "754", Points: held{Points: 100, Pending: 24}, Redeemed: 200, Awarded: 24, Charged: "246",
			Steps: []string{"ReserveStock:started", "ReserveStock:succeeded", "RedeemPoints:started", "RedeemPoints:succeeded",
				"ChargeWallet:started", "ChargeWallet:succeeded", "AwardPoints:started", "AwardPoints:succeeded", "CompleteOrder:started",
				"CompleteOrder:succeeded", "PublishPurchaseCompleted:started", "PublishPurchaseCompleted:succeeded", "Saga:succeeded"}}},
		{"out of stock", 2, "1000", 0, 3, 0, end{Status: "failed", Code: "OutOfStock", Stock: 2, Wallet: "1000", Charged: "0",
			Steps: []string{"ReserveStock:started", "ReserveStock:failed:OutOfStock", "ReleaseStock:started", "ReleaseStock:succeeded",
				"FailOrder:started", "FailOrder:succeeded", "Saga:failed:OutOfStock"}}},
		{"not enough points", 5, "1000", 50, 1, 100, end{Status: "failed", Code: "InsufficientPoints", Stock: 5, Wallet: "1000", Points: held{Points: 50}, Charged: "0",
			Steps: []string{"ReserveStock:started", "ReserveStock:succeeded", "RedeemPoints:started", "RedeemPoints:failed:InsufficientPoints",
				"RestorePoints:started", "RestorePoints:succeeded", "ReleaseStock:started", "ReleaseStock:succeeded",
				"FailOrder:started", "FailOrder:succeeded", "Saga:failed:InsufficientPoints"}}},
		{"wallet short after points: compensations newest first", 5, "10", 500, 1, 100, end{Status: "failed", Code: "InsufficientFunds",
			Stock: 5, Wallet: "10", Points: held{Points: 500}, Charged: "0",
			Steps: []string{"ReserveStock:started", "ReserveStock:succeeded", "RedeemPoints:started", "RedeemPoints:succeeded",
				"ChargeWallet:started", "ChargeWallet:failed:InsufficientFunds", "RefundWallet:started", "RefundWallet:succeeded",
				"RestorePoints:started", "RestorePoints:succeeded", "ReleaseStock:started", "ReleaseStock:succeeded",
				"FailOrder:started", "FailOrder:succeeded", "Saga:failed:InsufficientFunds"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ends []end
			for _, d := range []deployment{c, l} {
				user, item := fmt.Sprintf("buyer%d", i), fmt.Sprintf("item%d", i)
				product(t, d, item, "248.00", tc.stock)
				tok := customer(t, d, user, tc.money, tc.points)
				body := fmt.Sprintf(`{"user_id":%q,"items":[{"product_id":%q,"quantity":%d}]`, user, item, tc.quantity)
				if tc.redeem > 0 {
					body += fmt.Sprintf(`,"redeem_points":%d`, tc.redeem)
				}
				o := purchase(t, d, tok, body+"}")
				e := end{Status: o.Status, Code: o.FailureCode, Steps: taskSteps(o), Stock: stockOf(t, d, item), Wallet: walletOf(t, d, user).String(),
					Redeemed: o.PointsRedeemed, Awarded: o.PointsAwarded, Charged: o.Charged.String()}
				// The read model catches up through the change stream.
				waitFor(t, fmt.Sprintf("the points read model of %s to hold %+v", user, tc.want.Points), func() bool {
					e.Points = readModelPoints(t, d, user)
					return e.Points == tc.want.Points
				})
				ends = append(ends, e)
			}
			if d := cmp.Diff(tc.want, ends[0]); d != "" {
				t.Errorf("the cloud shape's end (-want +got):\n%s", d)
			}
			if d := cmp.Diff(ends[1], ends[0]); d != "" {
				t.Errorf("the cloud shape's end differs from one machine's (-local +cloud):\n%s", d)
			}
		})
	}

	t.Run("the retail stream feeds the sales tallies", func(t *testing.T) {
		waitFor(t, "the sales tally of item0", func() bool {
			tallies, err := c.svc.Sales.Tallies(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			return slices.ContainsFunc(tallies, func(tl ports.Tally) bool { return tl.ProductID == "item0" && tl.Units == 2 && tl.Orders == 1 })
		})
	})

	t.Run("30 buyers for 10 unicorns", func(t *testing.T) {
		product(t, c, "rare", "100.00", 10)
		var wg sync.WaitGroup
		results := make([]orderView, 30)
		for i := range 30 {
			tok := customer(t, c, fmt.Sprintf("rush%d", i), "100", 0)
			wg.Go(func() {
				results[i] = purchase(t, c, tok, fmt.Sprintf(`{"user_id":"rush%d","items":[{"product_id":"rare","quantity":1}]}`, i))
			})
		}
		wg.Wait()
		completed, taken := 0, decimal.Zero
		for i, o := range results {
			switch {
			case o.Status == "completed":
				completed++
			case o.Status != "failed" || o.FailureCode != "OutOfStock":
				t.Errorf("rush%d's order: %s %s", i, o.Status, o.FailureCode)
			}
			taken = taken.Add(decimal.NewFromInt(100).Sub(walletOf(t, c, fmt.Sprintf("rush%d", i))))
		}
		if completed != 10 || stockOf(t, c, "rare") != 0 || !taken.Equal(decimal.NewFromInt(1000)) {
			t.Errorf("%d completed, stock %d, money taken %s; want 10, 0, 1000", completed, stockOf(t, c, "rare"), taken)
		}
	})
}
