package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/domains/points"
	"github.com/unicornstore/unicorn/ports"
)

func (s *store) issuePoints(user string, n int64) {
	s.t.Helper()
	if _, err := s.app.Points.Issue(context.Background(), points.IssueCommand{Account: points.MustAccountID("UnicornStore", user), Amount: n}); err != nil {
		s.t.Fatal(err)
	}
}

// returnOf is one return of an order as the API shows it.
func returnOf(order map[string]any, i int) map[string]any {
	rs, _ := order["returns"].([]any)
	if i >= len(rs) {
		return nil
	}
	return rs[i].(map[string]any)
}

func dec(v any) decimal.Decimal { return decimal.NewFromFloat(num(v)) }

// TestReturnGivesBackItsShare: derick pays for three unicorns with money
// and points, returns one, then cancels the rest. Each return gives back
// its share of the money and the redeemed points and takes back its share
// of the points earned; after both, wallet, points and stock are where
// they were before the purchase, to the cent and the point.
func TestReturnGivesBackItsShare(t *testing.T) {
	t.Parallel()
	s := newStore(t, nil)
	s.issuePoints("derick", 1000)
	admin := s.auth
	s.auth = s.signIn("derick")
	stock0, wallet0 := s.stock("6"), s.balance("derick")
	order := s.must(201, "POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"6","quantity":3}],"redeem_points":500}`)
	id := order["id"].(string)
	// 1950 less 5.00 of points: 1945 charged, 194 points earned.
	if order["status"] != "completed" || num(order["charged"]) != 1945 || num(order["points_awarded"]) != 194 {
		t.Fatalf("order = %v", order)
	}
	if order["returnable_until"] == nil {
		t.Errorf("a completed order says until when it can be returned: %v", order)
	}

	one := s.must(201, "POST", "/orders/"+id+"/returns", `{"lines":[{"product_id":"6","quantity":1}],"reason":"too big"}`,
		"Idempotency-Key", "ret-1")
	r := returnOf(one, 0)
	// A third of 1945 (to the cent, down), of 500 and of 194 (down).
	if r["status"] != "completed" || num(r["refunded"]) != 648.33 || num(r["points_restored"]) != 166 || num(r["points_reversed"]) != 64 {
		t.Fatalf("first return = %v", r)
	}
	want := []string{"ReverseReturnAward:succeeded", "RestoreReturnPoints:succeeded", "RefundReturn:succeeded", "RestockReturn:succeeded",
		"CompleteReturn:succeeded", "PublishOrderReturned:succeeded", "Saga:succeeded"}
	if got := steps(map[string]any{"saga": r["saga"]}); !slices.Equal(got, want) {
		t.Errorf("return saga = %v, want %v", got, want)
	}
	if line := one["lines"].([]any)[0].(map[string]any); num(line["returned"]) != 1 {
		t.Errorf("line after the first return = %v", line)
	}
	// The points earned are pending through the return window: the
	// return cancels its share of them, and gives back its share of those
	// paid with.
	if s.stock("6") != stock0-2 || !s.balance("derick").Equal(wallet0.Sub(decimal.RequireFromString("1296.67"))) ||
		s.points("derick") != 1000-500+166 || s.pending("derick") != 194-64 {
		t.Errorf("after one return: stock %d, wallet %s, points %d, pending %d", s.stock("6"), s.balance("derick"), s.points("derick"), s.pending("derick"))
	}
	// The same request again is the same return; the key with another
	// request is refused.
	again := s.must(201, "POST", "/orders/"+id+"/returns", `{"lines":[{"product_id":"6","quantity":1}],"reason":"too big"}`,
		"Idempotency-Key", "ret-1")
	if len(again["returns"].([]any)) != 1 || !s.balance("derick").Equal(wallet0.Sub(decimal.RequireFromString("1296.67"))) {
		t.Errorf("a repeated return made another: %v", again["returns"])
	}
	s.must(422, "POST", "/orders/"+id+"/returns", `{"lines":[{"product_id":"6","quantity":2}]}`, "Idempotency-Key", "ret-1")
	// More than is left, or a product the order did not buy: 400.
	s.must(400, "POST", "/orders/"+id+"/returns", `{"lines":[{"product_id":"6","quantity":3}]}`)
	s.must(400, "POST", "/orders/"+id+"/returns", `{"lines":[{"product_id":"1","quantity":1}]}`)
	s.must(400, "POST", "/orders/"+id+"/returns", `{"lines":[]}`)

	// Cancelling the rest takes exactly what the first return left.
	rest := returnOf(s.must(201, "POST", "/orders/"+id+"/returns", `{}`), 1)
	if rest["status"] != "completed" || num(rest["refunded"]) != 1296.67 || num(rest["points_restored"]) != 334 || num(rest["points_reversed"]) != 130 {
		t.Fatalf("second return = %v", rest)
	}
	if s.stock("6") != stock0 || !s.balance("derick").Equal(wallet0) || s.points("derick") != 1000 || s.pending("derick") != 0 {
		t.Errorf("after returning everything: stock %d (want %d), wallet %s (want %s), points %d (want 1000), pending %d",
			s.stock("6"), stock0, s.balance("derick"), wallet0, s.points("derick"), s.pending("derick"))
	}
	s.must(409, "POST", "/orders/"+id+"/returns", `{}`)
	// The order keeps what it was: completed, paid, with its returns.
	final := s.must(200, "GET", "/orders/"+id, "", "Authorization", admin)
	if final["status"] != "completed" || len(final["returns"].([]any)) != 2 {
		t.Errorf("order after its returns = %v", final)
	}
}

// TestReturnWindowAndWho: a customer returns within the window and only
// their own orders; an admin at any time; a failed order is not returned.
func TestReturnWindowAndWho(t *testing.T) {
	t.Parallel()
	s := newStore(t, nil)
	s.customer("ada")
	derick := s.signIn("derick")
	order := s.must(201, "POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"6","quantity":2}]}`, "Authorization", derick)
	id := order["id"].(string)
	if code, _ := s.do("POST", "/orders/"+id+"/returns", `{}`, "Authorization", s.signIn("ada")); code != http.StatusForbidden && code != http.StatusNotFound {
		t.Errorf("another customer's return: %d, want 403 or 404", code)
	}
	s.clock.Set(s.clock.Now().Add(31 * 24 * time.Hour))
	admin, derick := s.signIn("admin"), s.signIn("derick") // tokens of before ran out meanwhile
	closed := s.must(409, "POST", "/orders/"+id+"/returns", `{"lines":[{"product_id":"6","quantity":1}]}`, "Authorization", derick)
	if closed["type"] != "urn:unicorn:problem:return-window-closed" {
		t.Errorf("past the window = %v", closed)
	}
	byAdmin := returnOf(s.must(201, "POST", "/orders/"+id+"/returns", `{"reason":"goodwill"}`, "Authorization", admin), 0)
	if byAdmin["status"] != "completed" || byAdmin["by"] != "admin" || num(byAdmin["refunded"]) != 1300 {
		t.Errorf("admin's return = %v", byAdmin)
	}
	failed := s.must(201, "POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"4","quantity":2}]}`, "Authorization", derick)
	if failed["status"] != "failed" {
		t.Fatalf("order = %v", failed)
	}
	s.must(409, "POST", "/orders/"+failed["id"].(string)+"/returns", `{}`, "Authorization", admin)
}

// TestReturnOfSpentPoints: the points an order earned cannot be spent
// within its return window; once they matured and were spent, an admin's
// return keeps their value from the refund, and says so.
func TestReturnOfSpentPoints(t *testing.T) {
	t.Parallel()
	s := newStore(t, nil)
	order := s.must(201, "POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"1","quantity":1}]}`)
	if num(order["points_awarded"]) != 170 {
		t.Fatalf("order = %v", order)
	}
	ctx, account := context.Background(), points.MustAccountID("UnicornStore", "derick")
	if _, err := s.app.Points.Redeem(ctx, points.RedeemCommand{Account: account, Amount: 1}); !errors.Is(err, points.ErrInsufficientPoints) {
		t.Fatalf("spending pending points: %v, want insufficient points", err)
	}
	s.clock.Set(s.clock.Now().Add(31 * 24 * time.Hour))
	swept, err := s.app.Sweeper.Sweep(ctx)
	if err != nil || swept.Matured != 170 {
		t.Fatalf("sweep = %+v, %v; want 170 matured", swept, err)
	}
	if again, err := s.app.Sweeper.Sweep(ctx); err != nil || again.Matured != 0 {
		t.Errorf("a second sweep = %+v, %v; want nothing matured", again, err)
	}
	if _, err := s.app.Points.Redeem(ctx, points.RedeemCommand{Account: account, Amount: 170}); err != nil {
		t.Fatal(err)
	}
	s.auth = s.signIn("admin") // the admin's token ran out meanwhile; past the window only an admin returns
	r := returnOf(s.must(201, "POST", "/orders/"+order["id"].(string)+"/returns", `{}`), 0)
	if num(r["points_unrecovered"]) != 170 || num(r["kept_from_refund"]) != 1.7 || num(r["refunded"]) != 1698.3 {
		t.Errorf("return = %v", r)
	}
	if !s.balance("derick").Equal(decimal.RequireFromString("3298.30")) || s.points("derick") != 0 {
		t.Errorf("wallet %s, points %d; want 3298.30, 0", s.balance("derick"), s.points("derick"))
	}
}

// TestReturnStepFailureNeedsAttention: a return step that keeps failing
// parks the return as needing attention, holding its quantities; the
// admin's retry finishes it, refunding once.
func TestReturnStepFailureNeedsAttention(t *testing.T) {
	t.Parallel()
	f := &faults{fail: map[string]int{"RestockReturnFunctionArn": -1}, calls: map[string]int{}}
	s := newStore(t, f.wrap)
	order := s.must(201, "POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"6","quantity":2}]}`)
	id := order["id"].(string)
	stuck := s.must(201, "POST", "/orders/"+id+"/returns", `{}`)
	r := returnOf(stuck, 0)
	if r["status"] != "needs_attention" || r["failure_code"] == nil {
		t.Fatalf("return = %v", r)
	}
	if n := f.calls["RestockReturnFunctionArn"]; n != 7 {
		t.Errorf("RestockReturn ran %d times, want 7 (1 + 6 retries)", n)
	}
	list := s.must(200, "GET", "/orders?status=needs_attention", "")["items"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["id"] != id {
		t.Errorf("needing attention = %v", list)
	}
	// Its quantities stay taken: nothing is left to return meanwhile.
	s.must(409, "POST", "/orders/"+id+"/returns", `{}`)
	f.set("RestockReturnFunctionArn", 0)
	retried := returnOf(s.must(201, "POST", "/orders/"+id+"/retry", ""), 0)
	if retried["status"] != "completed" || num(retried["attempt"]) != 2 || num(retried["refunded"]) != 1300 {
		t.Fatalf("after retry: %v", retried)
	}
	if !s.balance("derick").Equal(decimal.NewFromInt(3300)) || s.stock("6") != 20 {
		t.Errorf("after retry: wallet %s, stock %d; want 3300, 20", s.balance("derick"), s.stock("6"))
	}
	if list := s.must(200, "GET", "/orders?status=needs_attention", "")["items"].([]any); len(list) != 0 {
		t.Errorf("still needing attention: %v", list)
	}
	s.must(409, "POST", "/orders/"+id+"/retry", "")
}

// TestConcurrentReturnsNeverGiveBackMore: twelve returns of one unit each
// race for an order of five. Five complete; the rest are refused; the
// refunds add up to the charge and points and stock come back exactly.
func TestConcurrentReturnsNeverGiveBackMore(t *testing.T) {
	t.Parallel()
	s := newStore(t, nil)
	s.issuePoints("derick", 300)
	stock0, wallet0 := s.stock("6"), s.balance("derick")
	order := s.must(201, "POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"6","quantity":5}],"redeem_points":300}`)
	if order["status"] != "completed" {
		t.Fatalf("order = %v", order)
	}
	id := order["id"].(string)
	var wg sync.WaitGroup
	codes := make([]int, 12)
	for i := range codes {
		wg.Go(func() {
			codes[i], _ = s.do("POST", "/orders/"+id+"/returns", `{"lines":[{"product_id":"6","quantity":1}]}`,
				"Idempotency-Key", fmt.Sprint("k", i))
		})
	}
	wg.Wait()
	created := 0
	for _, c := range codes {
		switch c {
		case 201:
			created++
		case 400, 409:
		default:
			t.Errorf("a racing return answered %d", c)
		}
	}
	final := s.must(200, "GET", "/orders/"+id, "")
	refunded, restored, reversed := decimal.Zero, int64(0), int64(0)
	for i := range final["returns"].([]any) {
		r := returnOf(final, i)
		if r["status"] != "completed" {
			t.Errorf("return %v", r)
		}
		refunded = refunded.Add(dec(r["refunded"]))
		restored += int64(num(r["points_restored"]))
		reversed += int64(num(r["points_reversed"]))
	}
	if created != 5 || len(final["returns"].([]any)) != 5 {
		t.Fatalf("%d returns created, %d on the order; want 5", created, len(final["returns"].([]any)))
	}
	if !refunded.Equal(dec(final["charged"])) || restored != 300 || reversed != int64(num(final["points_awarded"])) {
		t.Errorf("returns gave back %s of %v, restored %d of 300, reversed %d of %v", refunded, final["charged"], restored, reversed, final["points_awarded"])
	}
	if s.stock("6") != stock0 || !s.balance("derick").Equal(wallet0) || s.points("derick") != 300 {
		t.Errorf("stock %d (want %d), wallet %s (want %s), points %d (want 300)", s.stock("6"), stock0, s.balance("derick"), wallet0, s.points("derick"))
	}
}

// TestStrandedReturnResumes: a crash between recording a return and
// starting its saga leaves it pending; the sweep that resumes stranded
// orders starts it.
func TestStrandedReturnResumes(t *testing.T) {
	t.Parallel()
	s := newStore(t, nil)
	order := s.must(201, "POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"6","quantity":1}]}`)
	id := order["id"].(string)
	at := s.clock.Now().UTC()
	_, err := s.app.db.Orders().Update(context.Background(), id, func(o *ports.Order) error {
		o.Returns = append(o.Returns, ports.OrderReturn{ID: "r1", Lines: []ports.ReturnLine{{ProductID: "6", Quantity: 1}},
			Value: decimal.NewFromInt(650), Refund: decimal.NewFromInt(650), PointsReversed: 65, By: "derick",
			Status: ports.ReturnPending, Attempt: 1, CreatedAt: at, UpdatedAt: at})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if list := s.must(200, "GET", "/orders?status=needs_attention", "")["items"].([]any); len(list) != 0 {
		t.Errorf("a pending return is not one needing attention: %v", list)
	}
	s.clock.Set(at.Add(time.Minute))
	n, err := s.app.Orders.ResumeStranded(context.Background(), 30*time.Second)
	if err != nil || n != 1 {
		t.Fatalf("resumed %d, %v; want 1", n, err)
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if r := returnOf(s.must(200, "GET", "/orders/"+id, ""), 0); r["status"] == "completed" {
			if !s.balance("derick").Equal(decimal.NewFromInt(3300)) || s.points("derick") != 0 || s.pending("derick") != 0 {
				t.Errorf("wallet %s, points %d, pending %d; want 3300, 0, 0", s.balance("derick"), s.points("derick"), s.pending("derick"))
			}
			return
		}
	}
	t.Fatal("the stranded return never completed")
}
