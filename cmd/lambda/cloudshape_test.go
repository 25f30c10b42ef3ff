package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/adapters/dynamodb"
	"github.com/unicornstore/unicorn/adapters/dynamodb/dynamotest"
	"github.com/unicornstore/unicorn/adapters/lambda"
	"github.com/unicornstore/unicorn/domains/identity"
	"github.com/unicornstore/unicorn/domains/points"
	"github.com/unicornstore/unicorn/domains/retail"
	"github.com/unicornstore/unicorn/ports"
)

// TestCloudShape deploys the store once, as AWS runs it (see startCloud),
// and runs every check of the cloud path against that deployment.
func TestCloudShape(t *testing.T) {
	c := startCloud(t)
	// One machine, whose ends the cloud's must match.
	l := startLocal(t)
	for _, d := range []deployment{c, l} {
		tenthCampaign(t, d)
	}
	t.Run("purchases end as on one machine", func(t *testing.T) { testPurchases(t, c, l) })
	t.Run("returns end as on one machine", func(t *testing.T) { testReturns(t, c, l) })
	t.Run("API Gateway events", func(t *testing.T) { testAPIGatewayEvents(t, c) })
	t.Run("60 redemptions of 10 on 200", func(t *testing.T) { testConcurrentRedemptions(t, c) })
	t.Run("scheduled functions", func(t *testing.T) { testScheduled(t, c) })
	t.Run("webhooks through the queue", func(t *testing.T) { testWebhooks(t, c) })
	// Last: it reads everything the ledger's stream holds.
	t.Run("duplicated and reordered stream batches", func(t *testing.T) { testStreamRedelivery(t, c) })
	// What every function did above is within what the stack grants it.
	t.Run("each function within its grants", func(t *testing.T) {
		c.access.check(t)
		c.checkQueues(t)
	})
}

// testAPIGatewayEvents: aws-lambda-go's fixture of an HTTP API request,
// with each route's method and path, reaches the right route of the api
// function with the right status.
func testAPIGatewayEvents(t *testing.T, c *cloud) {
	tok := customer(t, c, "gwuser", "100", 0)
	product(t, c, "gw", "10.00", 1)
	for _, tc := range []struct {
		method, path, token, body string
		base64                    bool
		want                      int
		wantBody                  string
	}{
		{"GET", "/healthz", "", "", false, 200, ""},
		{"GET", "/products/gw", "", "", false, 200, `"id":"gw"`},
		{"GET", "/products/nope", "", "", false, 404, ""},
		{"GET", "/no/such/route", "", "", false, 404, ""},
		{"GET", "/points?account_id=gwuser", "", "", false, 401, ""},
		{"GET", "/points?account_id=gwuser", tok, "", false, 200, `"balance":0`},
		{"GET", "/points?account_id=someone-else", tok, "", false, 403, ""},
		{"GET", "/users/gwuser/wallet", tok, "", false, 200, `"balance":100`},
		{"POST", "/purchase", tok, `{"user_id":"gwuser","items":[{"product_id":"gw","quantity":"lots"}]}`, false, 400, "quantity"},
		{"POST", "/purchase", tok, `{"user_id":"gwuser","items":`, false, 400, ""},
		{"POST", "/products", tok, `{"id":"x","name":"x","price":1}`, false, 403, ""},
		// A body API Gateway passed base64-encoded.
		{"POST", "/purchase", tok, `{"user_id":"gwuser","items":[{"product_id":"gw","quantity":1}]}`, true, 201, `"status":"completed"`},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			ev := apiEvent(t, tc.method, tc.path, tc.token, tc.body, "Idempotency-Key", "gw-"+tc.path)
			if tc.base64 {
				ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(tc.body)), true
			}
			out, fnErr, err := c.fns.invoke(t.Context(), "api", ev)
			if err != nil || fnErr != "" {
				t.Fatalf("%v %s %s", err, fnErr, out)
			}
			var resp events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.want || !strings.Contains(resp.Body, tc.wantBody) {
				t.Errorf("%d %s; want %d with %q", resp.StatusCode, resp.Body, tc.want, tc.wantBody)
			}
		})
	}
}

// testConcurrentRedemptions: 60 redemptions of 10 at once, through the api
// function with an API key, on a balance of 200: exactly 20 succeed, the
// ledger holds nothing more, and the read model (fed by the stream) ends
// at 0.
func testConcurrentRedemptions(t *testing.T, c *cloud) {
	ctx := t.Context()
	key, _, err := c.svc.Identity.CreateAPIKey(ctx, c.client, "till", []string{identity.ScopePointsRead, identity.ScopePointsWrite})
	if err != nil {
		t.Fatal(err)
	}
	account := points.MustAccountID(c.client, "hot")
	if _, err := c.svc.Points.Issue(ctx, points.IssueCommand{Account: account, Amount: 200, Key: "hot:200"}); err != nil {
		t.Fatal(err)
	}
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Go(func() {
			status, body := c.call(t, http.MethodDelete, "/points", "", `{"account_id":"hot","amount":10}`,
				"X-Api-Key", key, "Idempotency-Key", fmt.Sprintf("hot-%d", i))
			switch status {
			case http.StatusOK:
				ok.Add(1)
			case http.StatusConflict:
				refused.Add(1)
			default:
				t.Errorf("redemption %d: %d %s", i, status, body)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 20 || refused.Load() != 40 {
		t.Errorf("%d redemptions succeeded and %d were refused; want 20 and 40", ok.Load(), refused.Load())
	}
	bal, err := c.svc.Reads.Balance(ctx, account, points.LotPage{})
	if err != nil || bal.Available != 0 {
		t.Errorf("balance after the redemptions: %+v %v", bal, err)
	}
	waitFor(t, "the read model of hot to reach 0", func() bool { return readModelPoints(t, c, "hot") == held{} })
}

// testScheduled: the sweeps, run as their functions: an order stranded an
// hour ago (stored, its saga never started) with stock reserved for it
// past the reservation's life; release-stock gives the stock back,
// resume-orders starts its saga, which ends; a lot of points past its
// expiry is expired by expire-points.
func testScheduled(t *testing.T, c *cloud) {
	ctx := t.Context()
	// The past: services whose clock is an hour (and, for points, a year
	// and more) behind, with no saga runner, as if the process died
	// between storing the order and starting its saga.
	hourAgo := clock.NewManual(time.Now().Add(-time.Hour))
	past, err := c.servicesAt(ctx, hourAgo)
	if err != nil {
		t.Fatal(err)
	}
	product(t, c, "late", "50.00", 3)
	tok := customer(t, c, "late", "100", 0)
	order, _, err := past.Orders.Purchase(ctx, retail.PurchaseCommand{UserID: "late", Items: []retail.Item{{ProductID: "late", Quantity: 1}}, Key: "late-1", NoWait: true})
	if err == nil || order == nil {
		t.Fatalf("the stranded purchase: %v, %v (want the order stored and its start refused)", order, err)
	}
	if err := past.Steps.ReserveStock(ctx, retail.StepInput{SagaInput: retail.SagaInput{OrderID: order.ID()}}); err != nil {
		t.Fatal(err)
	}
	if got := stockOf(t, c, "late"); got != 2 {
		t.Fatalf("stock after the reservation = %d, want 2", got)
	}
	sweep := func(fn string) int64 {
		t.Helper()
		out, fnErr, err := c.fns.invoke(ctx, fn, map[string]any{"source": "aws.scheduler"})
		var res lambda.SweepResult
		if err != nil || fnErr != "" || json.Unmarshal(out, &res) != nil {
			t.Fatalf("%s: %v %s %s", fn, err, fnErr, out)
		}
		return res.Done
	}
	if n := sweep("release-stock"); n != 1 || stockOf(t, c, "late") != 3 {
		t.Errorf("release-stock released %d, stock %d; want 1 and 3", n, stockOf(t, c, "late"))
	}
	if n := sweep("resume-orders"); n != 1 {
		t.Errorf("resume-orders resumed %d orders, want 1", n)
	}
	o := follow(t, c, tok, order.ID())
	switch wallet, stock := walletOf(t, c, "late"), stockOf(t, c, "late"); {
	case o.Status == "completed" && wallet.Equal(decimal.NewFromInt(50)) && stock == 2:
	case o.Status == "failed" && wallet.Equal(decimal.NewFromInt(100)) && stock == 3:
	default:
		t.Errorf("the resumed order is %s with wallet %s and stock %d", o.Status, wallet, stock)
	}

	yearAgo := clock.NewManual(time.Now().AddDate(-1, 0, -10))
	older, err := c.servicesAt(ctx, yearAgo)
	if err != nil {
		t.Fatal(err)
	}
	account := points.MustAccountID(c.client, "expiring")
	if _, err := older.Points.Issue(ctx, points.IssueCommand{Account: account, Amount: 70, Key: "expiring"}); err != nil {
		t.Fatal(err)
	}
	// The sweep finds due lots through the read model: let the stream
	// bring it there first.
	waitFor(t, "the read model of expiring", func() bool {
		v, err := c.store.Balances().Get(ctx, account.String())
		return err == nil && v.Seq == 1
	})
	if n := sweep("expire-points"); n != 70 {
		t.Errorf("expire-points expired %d points, want 70", n)
	}
	events, err := c.store.Ledger().Load(ctx, account.String(), 0)
	if err != nil || len(events) != 2 || events[1].Type != "points.expired" {
		t.Errorf("the ledger of expiring: %v %v", events, err)
	}
}

// testStreamRedelivery: the ledger's stream, read whole, handed to the
// consumer function again, twice and in reverse order, leaves the read
// model equal to a rebuild from the ledger.
func testStreamRedelivery(t *testing.T, c *cloud) {
	ctx := t.Context()
	records := readWholeStream(t, c, c.store.Tables().Ledger)
	if len(records) < 20 {
		t.Fatalf("only %d ledger records in the stream", len(records))
	}
	reversed := slices.Clone(records)
	slices.Reverse(reversed)
	for _, batch := range [][]streamtypes.Record{records, reversed, records[len(records)/2:]} {
		for chunk := range slices.Chunk(batch, 100) {
			if err := c.deliver(ctx, "ledger-stream", chunk); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The rebuild: every ledger event into fresh tables.
	fresh, err := dynamodb.New(dynamotest.Client(t), dynamotest.TablesNamed(fmt.Sprintf("-rebuild-%d", time.Now().UnixNano())))
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.CreateTables(ctx); err != nil {
		t.Fatal(err)
	}
	rebuilt, err := points.NewReadModel(c.store.Ledger(), fresh.Balances(), clock.System{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rebuilt.Rebuild(ctx, 1000, nil); err != nil {
		t.Fatal(err)
	}
	accounts := map[string]bool{}
	for _, r := range records {
		if m, ok, err := dynamodb.StreamMessage(r); err == nil && ok {
			var ev ports.Event
			if json.Unmarshal(m.Payload, &ev) == nil {
				accounts[ev.Account] = true
			}
		}
	}
	if len(accounts) < 5 {
		t.Fatalf("the stream names %d accounts", len(accounts))
	}
	for account := range accounts {
		live, err := c.store.Balances().Get(ctx, account)
		if err != nil {
			t.Fatal(err)
		}
		want, err := fresh.Balances().Get(ctx, account)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, live, cmpopts.IgnoreFields(ports.BalanceView{}, "UpdatedAt"), cmpopts.IgnoreFields(ports.Lot{}, "LastUpdated"),
			cmpopts.EquateEmpty()); d != "" {
			t.Errorf("%s: the live read model differs from a rebuild (-rebuild +live):\n%s", account, d)
		}
	}
}

// readWholeStream reads every record a table's stream holds, as the
// stream API gives them, shard by shard until each is read to its end.
func readWholeStream(t *testing.T, c *cloud, table string) []streamtypes.Record {
	t.Helper()
	ctx := t.Context()
	arn, err := c.store.StreamARN(ctx, table)
	if err != nil {
		t.Fatal(err)
	}
	client := dynamotest.StreamsClient(t)
	desc, err := client.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	var out []streamtypes.Record
	for _, shard := range desc.StreamDescription.Shards {
		it, err := client.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn), ShardId: shard.ShardId,
			ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		for iter := it.ShardIterator; iter != nil; {
			page, err := client.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Records) == 0 {
				break // read to what the shard holds now
			}
			out = append(out, page.Records...)
			iter = page.NextShardIterator
		}
	}
	return out
}
