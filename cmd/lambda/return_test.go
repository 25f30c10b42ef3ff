package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/adapters/sagatasks"
	"github.com/unicornstore/unicorn/adapters/stepfunctions"
	"github.com/unicornstore/unicorn/domains/retail"
	"github.com/unicornstore/unicorn/ports"
)

type lineView struct {
	ProductID string `json:"product_id"`
	Quantity  int64  `json:"quantity"`
	Returned  int64  `json:"returned"`
}

// returnView is one return of an order as the API shows it.
type returnView struct {
	ID             string           `json:"id"`
	Status         string           `json:"status"`
	Refunded       json.Number      `json:"refunded"`
	PointsRestored int64            `json:"points_restored"`
	PointsReversed int64            `json:"points_reversed"`
	FailureCode    string           `json:"failure_code"`
	FailureReason  string           `json:"failure_reason"`
	Saga           []ports.SagaStep `json:"saga"`
}

// returnSaga is the name of a return's n-th saga run: the domain's
// <order>.<return>, and <order>.<return>.retry-<n> for an operator's
// retries.
func returnSaga(orderID, returnID string, attempt int) string {
	if attempt <= 1 {
		return orderID + "." + returnID
	}
	return fmt.Sprintf("%s.%s.retry-%d", orderID, returnID, attempt)
}

// returnRun: as Step Functions tells it ("succeeded", "failed", ...).
func (c *cloud) returnRun(t *testing.T, orderID, returnID string, attempt int) string {
	t.Helper()
	arn := strings.Replace(returnStateMachineARN, ":stateMachine:", ":execution:", 1) + ":" +
		stepfunctions.ExecutionName(returnSaga(orderID, returnID, attempt))
	out, err := c.sfn.DescribeExecution(t.Context(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if _, missing := errors.AsType[*sfntypes.ExecutionDoesNotExist](err); missing {
		t.Fatalf("run %d of the return %s of %s has no execution %s", attempt, returnID, orderID, arn)
	}
	if err != nil {
		t.Fatal(err)
	}
	if out.Status == sfntypes.ExecutionStatusRunning {
		return ""
	}
	return strings.ToLower(string(out.Status))
}

// returnRun: as the local executor tells it (the run's step "Saga").
func (l *local) returnRun(t *testing.T, orderID, returnID string, attempt int) string {
	t.Helper()
	v, err := l.svc.Orders.Order(t.Context(), orderID)
	if err != nil {
		t.Fatal(err)
	}
	var ends []string
	for _, s := range v.ReturnSteps[returnID] {
		if s.Step == "Saga" {
			ends = append(ends, s.Status)
		}
	}
	if len(ends) < attempt {
		return ""
	}
	return ends[attempt-1]
}

// askReturn posts a return of an order (answered at once, as the web app
// asks) and returns the new return's id.
func askReturn(t *testing.T, d deployment, token, orderID, body string) string {
	t.Helper()
	status, resp := d.call(t, http.MethodPost, "/orders/"+orderID+"/returns", token, body,
		"Idempotency-Key", fmt.Sprintf("ret-%d", time.Now().UnixNano()), "Prefer", "respond-async")
	var o orderView
	if (status != http.StatusAccepted && status != http.StatusCreated) || json.Unmarshal([]byte(resp), &o) != nil || len(o.Returns) == 0 {
		t.Fatalf("POST /orders/%s/returns = %d %s", orderID, status, resp)
	}
	return o.Returns[len(o.Returns)-1].ID
}

// followReturn waits until the return's attempt-th saga run has ended, with a
// deadline far beyond what it needs, and returns the order then. Each
// task records its steps before it answers, so once the run has ended
// the order shows them all.
func followReturn(t *testing.T, d deployment, token, orderID, returnID string, attempt int) (orderView, returnView, string) {
	t.Helper()
	var run string
	waitFor(t, fmt.Sprintf("run %d of the saga of return %s of %s to end", attempt, returnID, orderID), func() bool {
		run = d.returnRun(t, orderID, returnID, attempt)
		return run != ""
	})
	status, resp := d.call(t, http.MethodGet, "/orders/"+orderID, token, "")
	var o orderView
	if status != http.StatusOK || json.Unmarshal([]byte(resp), &o) != nil {
		t.Fatalf("GET /orders/%s = %d %s", orderID, status, resp)
	}
	i := slices.IndexFunc(o.Returns, func(r returnView) bool { return r.ID == returnID })
	if i < 0 {
		t.Fatalf("order %s shows no return %s: %s", orderID, returnID, resp)
	}
	return o, o.Returns[i], run
}

// returnSteps are a return's steps as "Step:status[:error]", the run's
// end (the step "Saga") included: the local executor records it, and in
// the cloud the task that ends a run does (sagatasks.Recorded).
func returnSteps(r returnView) []string {
	return taskSteps(orderView{Saga: r.Saga})
}

// after is where a return left the store.
type after struct {
	Return            string // the return's status
	Run               string // how its saga run ended
	Steps             []string
	Refunded          string
	Restored          int64
	Reversed          int64
	Wallet            string
	StockA, StockB    int64
	Points            held // the read model's
	ReturnedA         int64
	ReturnedB         int64
	OrderStatus       string
	CompletedReturns  int
	ReturnsOfTheOrder int
}

// testReturns: a customer pays for two products with money and points,
// returns one unicorn, then cancels the rest. On the cloud shape (the api
// function starting return.asl.json on Step Functions, its tasks as
// functions, the ledger's stream feeding the points read model) each
// return ends where the one-machine store ends: the same steps, refund,
// points and stock; after both, wallet, stock and points are exactly
// where they were before the purchase.
func testReturns(t *testing.T, c *cloud, l *local) {
	steps := allReturnSteps
	// 2 x 248.00 + 100.00 = 596.00, 200 points (2.00) off: 594.00
	// charged, 59 points earned (pending through the return window). The
	// first return is 248.00 of 596.00: that share of the charge (to the
	// cent, down), of the redeemed and of the earned points (down); the
	// cancellation takes what is left.
	want := []after{
		{Return: "completed", Run: "succeeded", Steps: steps, Refunded: "247.16", Restored: 83, Reversed: 24,
			Wallet: "653.16", StockA: 4, StockB: 4, Points: held{Points: 300 - 200 + 83, Pending: 59 - 24}, ReturnedA: 1,
			OrderStatus: "completed", CompletedReturns: 1, ReturnsOfTheOrder: 1},
		{Return: "completed", Run: "succeeded", Steps: steps, Refunded: "346.84", Restored: 117, Reversed: 35,
			Wallet: "1000", StockA: 5, StockB: 5, Points: held{Points: 300}, ReturnedA: 2, ReturnedB: 1,
			OrderStatus: "completed", CompletedReturns: 2, ReturnsOfTheOrder: 2},
	}
	var ends [2][]after
	for i, d := range []deployment{c, l} {
		user := "returner"
		product(t, d, "ret-a", "248.00", 5)
		product(t, d, "ret-b", "100.00", 5)
		tok := customer(t, d, user, "1000", 300)
		o := purchase(t, d, tok, `{"user_id":"returner","items":[{"product_id":"ret-a","quantity":2},{"product_id":"ret-b","quantity":1}],"redeem_points":200}`)
		if o.Status != "completed" || o.Charged.String() != "594" || o.PointsRedeemed != 200 || o.PointsAwarded != 59 {
			t.Fatalf("the purchase: %+v", o)
		}
		for n, body := range []string{`{"lines":[{"product_id":"ret-a","quantity":1}],"reason":"one is enough"}`, `{}`} {
			id := askReturn(t, d, tok, o.ID, body)
			order, r, run := followReturn(t, d, tok, o.ID, id, 1)
			e := after{Return: r.Status, Run: run, Steps: returnSteps(r), Refunded: r.Refunded.String(), Restored: r.PointsRestored,
				Reversed: r.PointsReversed, Wallet: walletOf(t, d, user).String(), StockA: stockOf(t, d, "ret-a"), StockB: stockOf(t, d, "ret-b"),
				OrderStatus: order.Status, ReturnsOfTheOrder: len(order.Returns)}
			for _, ln := range order.Lines {
				switch ln.ProductID {
				case "ret-a":
					e.ReturnedA = ln.Returned
				case "ret-b":
					e.ReturnedB = ln.Returned
				}
			}
			for _, r := range order.Returns {
				if r.Status == "completed" {
					e.CompletedReturns++
				}
			}
			// The read model catches up through the change stream.
			waitFor(t, fmt.Sprintf("the points read model of %s to hold %+v", user, want[n].Points), func() bool {
				e.Points = readModelPoints(t, d, user)
				return e.Points == want[n].Points
			})
			ends[i] = append(ends[i], e)
		}
	}
	if d := cmp.Diff(want, ends[0]); d != "" {
		t.Errorf("the cloud shape's returns (-want +got):\n%s", d)
	}
	if d := cmp.Diff(ends[1], ends[0]); d != "" {
		t.Errorf("the cloud shape's returns differ from one machine's (-local +cloud):\n%s", d)
	}
	// Each task of the return saga ran as its own function; none kept
	// failing.
	c.fns.mu.Lock()
	for resource := range sagatasks.ReturnSteps {
		n, fn := c.fns.invoked[taskRole(resource)], taskRole(resource)
		if parked := fn == "MarkReturnNeedsAttention"; (n > 0) == parked {
			t.Errorf("%s was invoked %d times", fn, n)
		}
	}
	c.fns.mu.Unlock()

	t.Run("a return stranded before its saga started", func(t *testing.T) { testStrandedReturn(t, c) })
	t.Run("a return parked for an operator, then retried", func(t *testing.T) { testParkedReturn(t, c) })
}

// allReturnSteps are the steps of a return saga run that went through,
// its end included.
var allReturnSteps = []string{"ReverseReturnAward:started", "ReverseReturnAward:succeeded", "RestoreReturnPoints:started",
	"RestoreReturnPoints:succeeded", "RefundReturn:started", "RefundReturn:succeeded", "RestockReturn:started",
	"RestockReturn:succeeded", "CompleteReturn:started", "CompleteReturn:succeeded", "PublishOrderReturned:started",
	"PublishOrderReturned:succeeded", "Saga:succeeded"}

// staff creates a user of the store with a role, and returns an access
// token.
func staff(t *testing.T, d deployment, name, role string) string {
	t.Helper()
	ctx, svc := t.Context(), d.services()
	if _, err := svc.Identity.CreateUser(ctx, name, d.storeClient(), role, password); err != nil {
		t.Fatal(err)
	}
	tok, err := svc.Identity.SignIn(ctx, name, password, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

// testParkedReturn: a return whose refund keeps failing (every DynamoDB
// request of the RefundReturn function refused, as IAM refuses a role
// without the grant) is retried by Step Functions, then parked by the
// MarkReturnNeedsAttention function for an operator, with what it did so
// far held; once the cause is gone an admin's retry runs it again, every
// step safe to repeat, and it ends exactly where it would have.
func testParkedReturn(t *testing.T, c *cloud) {
	product(t, c, "parked", "80.00", 3)
	tok := customer(t, c, "parked", "200", 100)
	admin := staff(t, c, "parked-admin", ports.RoleAdmin)
	o := purchase(t, c, tok, `{"user_id":"parked","items":[{"product_id":"parked","quantity":2}],"redeem_points":50}`)
	if o.Status != "completed" {
		t.Fatalf("the purchase: %+v", o)
	}

	c.access.deny("RefundReturn", true)
	t.Cleanup(func() { c.access.deny("RefundReturn", false) })
	id := askReturn(t, c, tok, o.ID, `{}`)
	_, r, run := followReturn(t, c, tok, o.ID, id, 1)
	// The refund never started: its function could not even record that
	// it had (the step store is in DynamoDB too).
	parked := []string{"ReverseReturnAward:started", "ReverseReturnAward:succeeded", "RestoreReturnPoints:started",
		"RestoreReturnPoints:succeeded", "MarkReturnNeedsAttention:started", "MarkReturnNeedsAttention:succeeded",
		"Saga:failed:ReturnNeedsAttention"}
	if r.Status != "needs_attention" || run != "failed" || !strings.Contains(r.FailureReason, "AccessDenied") ||
		!slices.Equal(returnSteps(r), parked) {
		t.Fatalf("the parked return: %s (%s: %s), its run %s, steps %v; want needs_attention after %v",
			r.Status, r.FailureCode, r.FailureReason, run, returnSteps(r), parked)
	}
	if got := stockOf(t, c, "parked"); got != 1 {
		t.Errorf("the parked return restocked: stock %d, want 1", got)
	}

	c.access.deny("RefundReturn", false)
	if status, resp := c.call(t, http.MethodPost, "/orders/"+o.ID+"/retry", admin, "", "Prefer", "respond-async"); status/100 != 2 {
		t.Fatalf("POST /orders/%s/retry = %d %s", o.ID, status, resp)
	}
	_, r, run = followReturn(t, c, tok, o.ID, id, 2)
	if r.Status != "completed" || run != "succeeded" || !slices.Equal(returnSteps(r), append(parked, allReturnSteps...)) {
		t.Errorf("the retried return: %s, its run %s, steps %v", r.Status, run, returnSteps(r))
	}
	if w, s := walletOf(t, c, "parked"), stockOf(t, c, "parked"); !w.Equal(decimal.NewFromInt(200)) || s != 3 {
		t.Errorf("after the retried return: wallet %s, stock %d; want 200 and 3", w, s)
	}
	waitFor(t, "the points of parked back to 100", func() bool {
		return readModelPoints(t, c, "parked") == held{Points: 100}
	})
}

// testStrandedReturn: a return stored an hour ago whose saga never
// started (the process died in between) is started by the resume-orders
// function on the return saga's state machine, and completes.
func testStrandedReturn(t *testing.T, c *cloud) {
	ctx := t.Context()
	product(t, c, "stranded", "40.00", 2)
	tok := customer(t, c, "stranded", "100", 0)
	o := purchase(t, c, tok, `{"user_id":"stranded","items":[{"product_id":"stranded","quantity":1}]}`)
	if o.Status != "completed" {
		t.Fatalf("the purchase: %+v", o)
	}
	past, err := c.servicesAt(ctx, clock.NewManual(time.Now().Add(-time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	// Services with no saga runner: the return is stored, its start
	// refused.
	if _, ret, _, err := past.Orders.Return(ctx, retail.ReturnCommand{OrderID: o.ID, By: "stranded", Admin: true, NoWait: true}); err == nil || ret == nil {
		t.Fatalf("the stranded return: %v, %v (want the return stored and its start refused)", ret, err)
	}
	out, fnErr, err := c.fns.invoke(ctx, "resume-orders", map[string]any{"source": "aws.scheduler"})
	var res struct {
		Done int64 `json:"done"`
	}
	if err != nil || fnErr != "" || json.Unmarshal(out, &res) != nil || res.Done != 1 {
		t.Fatalf("resume-orders: %v %s %s (want one stranded return started)", err, fnErr, out)
	}
	_, r, run := followReturn(t, c, tok, o.ID, "r1", 1)
	if r.Status != "completed" || run != "succeeded" || !slices.Equal(returnSteps(r), allReturnSteps) {
		t.Errorf("the resumed return: %s, its run %s, steps %v", r.Status, run, returnSteps(r))
	}
	if w, s := walletOf(t, c, "stranded"), stockOf(t, c, "stranded"); !w.Equal(decimal.NewFromInt(100)) || s != 2 {
		t.Errorf("after the resumed return: wallet %s, stock %d; want 100 and 2", w, s)
	}
	waitFor(t, "the points the stranded return took back to leave the read model", func() bool {
		return readModelPoints(t, c, "stranded") == held{}
	})
}
