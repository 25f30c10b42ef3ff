package dynamodb_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/adapters/dynamodb"
	"github.com/unicornstore/unicorn/adapters/dynamodb/dynamotest"
	"github.com/unicornstore/unicorn/ports"
)

// recorder is an HTTP client that notes the DynamoDB operations a store
// calls (the X-Amz-Target of each request) on their way to DynamoDB
// Local.
type recorder struct {
	mu  sync.Mutex
	ops []string
}

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	_, op, _ := strings.Cut(req.Header.Get("X-Amz-Target"), ".")
	r.ops = append(r.ops, op)
	r.mu.Unlock()
	return http.DefaultClient.Do(req)
}

func (r *recorder) calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ops...)
}

// recording returns the store over the same tables with a client whose
// operations are recorded.
func recording(t *testing.T, s *dynamodb.Store) (*dynamodb.Store, *recorder) {
	t.Helper()
	r := &recorder{}
	client := ddb.New(s.Client().Options(), func(o *ddb.Options) { o.HTTPClient = r })
	rs, err := dynamodb.New(client, s.Tables())
	if err != nil {
		t.Fatal(err)
	}
	return rs, r
}

// The public catalog page reads products only: a query of the products
// index, never a scan of the retail table and its wallets and orders.
func TestCatalogListReadsOnlyProducts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := dynamotest.NewStore(t)
	for _, id := range []string{"b", "a"} {
		p := ports.Product{ID: id, Name: "Unicorn " + id, Price: decimal.NewFromInt(1), Stock: 1, Version: 1, UpdatedAt: t0}
		if err := s.Catalog().Save(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 30 {
		u := string(rune('a' + i%26))
		if _, err := s.Wallets().Apply(ctx, ports.WalletChange{Username: u + "-user", Delta: decimal.NewFromInt(1), At: t0}); err != nil {
			t.Fatal(err)
		}
	}
	rs, calls := recording(t, s)
	list, err := rs.Catalog().List(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "a" || list[1].ID != "b" {
		t.Fatalf("List = %v, %v", list, err)
	}
	for _, op := range calls.calls() {
		if op != "Query" {
			t.Errorf("List called %s; want only queries of the products index", op)
		}
	}
}

// Only open orders are in the status index: a completed order leaves it.
func TestOrdersStatusIndexIsSparse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := dynamotest.NewStore(t)
	o := ports.Order{ID: "o-1", UserID: "derick", Status: ports.OrderPending, CreatedAt: t0, UpdatedAt: t0, Version: 1}
	if _, _, err := s.Orders().Create(ctx, o); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Orders().Update(ctx, "o-1", func(o *ports.Order) error { o.Status = ports.OrderCompleted; return nil }); err != nil {
		t.Fatal(err)
	}
	out, err := s.Client().Scan(ctx, &ddb.ScanInput{TableName: aws.String(s.Tables().Retail), IndexName: aws.String("by_status")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 0 {
		t.Errorf("the status index holds %d items after the order completed, want none", len(out.Items))
	}
	if _, err := s.Orders().WithStatus(ctx, ports.OrderCompleted, 10); err == nil {
		t.Error("WithStatus(completed) answered; want a refusal: closed statuses are not indexed")
	}
}

// Items that expire carry "ttl" (epoch seconds), and their tables have
// time to live on: idempotency records and budget grants after
// 90 days, sessions when they expire, published messages and webhook
// deliveries after 90 days.
//
// Every time here is now, not the fixed t0 of the other tests: DynamoDB
// Local's sweeper really deletes items whose ttl has passed, so a session
// that expired in the past could vanish between its creation and its
// rotation.
func TestTimeToLive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := dynamotest.NewStore(t)
	if err := s.CreateTables(ctx); err != nil { // the tables exist: this turns their time to live on
		t.Fatal(err)
	}
	tables := s.Tables()
	for table, attr := range dynamodb.TimeToLive(tables) {
		out, err := s.Client().DescribeTimeToLive(ctx, &ddb.DescribeTimeToLiveInput{TableName: aws.String(table)})
		if err != nil {
			t.Fatal(err)
		}
		if d := out.TimeToLiveDescription; d == nil || aws.ToString(d.AttributeName) != attr || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
			t.Errorf("time to live of %s: %+v, want enabled on %s", table, d, attr)
		}
	}
	retention := 90 * 24 * time.Hour
	now := time.Now().UTC()
	ev := ports.Event{ID: "e1", Account: "Store/derick", Seq: 1, Type: "points.issued", Version: 1, Data: []byte(`{}`), RecordedAt: now}
	if err := s.Ledger().Append(ctx, ports.Append{Account: ev.Account, Events: []ports.Event{ev},
		Idempotency: &ports.IdempotencyRecord{Key: "Store/k", Account: ev.Account, Fingerprint: "f", Result: []byte(`[]`), CreatedAt: now}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Campaigns().Grant(ctx, "Store", "c", "k", 0, 5); err != nil {
		t.Fatal(err)
	}
	session := ports.Session{ID: "s1", Username: "derick", RefreshHash: "h1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.Sessions().Create(ctx, session); err != nil {
		t.Fatal(err)
	}
	rotated := session
	rotated.RefreshHash, rotated.ExpiresAt = "h2", now.Add(2*time.Hour)
	if err := s.Sessions().Rotate(ctx, rotated, "h1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Publisher().Publish(ctx, ports.Message{Topic: "t", Key: "k", Payload: []byte(`{}`), CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Webhooks().Enqueue(ctx, ports.WebhookDelivery{ID: "wd1", Client: "Store", EndpointID: "e1", EventID: "ev1", EventType: "order.completed",
		Payload: []byte(`{}`), Status: ports.WebhookPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now, Version: 1}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what, table string
		key         map[string]types.AttributeValue
		from, to    time.Time
	}{
		{"idempotency record", tables.Ledger, map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "K#Store/k"}, "sk": &types.AttributeValueMemberN{Value: "0"}},
			now.Add(retention), now.Add(retention + 2*time.Second)},
		{"budget grant", tables.Campaigns, map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "G#Store#c"}, "sk": &types.AttributeValueMemberS{Value: "k"}},
			now.Add(retention - time.Minute), now.Add(retention + time.Minute)},
		{"session", tables.Identity, map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "S#s1"}},
			rotated.ExpiresAt, rotated.ExpiresAt.Add(2 * time.Second)},
		{"published message", tables.Messages, map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "M#k"}},
			now.Add(retention), now.Add(retention + 2*time.Second)},
		{"webhook delivery", tables.ReadModels, map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "WD#wd1"}, "sk": &types.AttributeValueMemberS{Value: "-"}},
			now.Add(ports.WebhookRetention), now.Add(ports.WebhookRetention + 2*time.Second)},
	} {
		out, err := s.Client().GetItem(ctx, &ddb.GetItemInput{TableName: aws.String(c.table), Key: c.key})
		if err != nil {
			t.Fatal(err)
		}
		n, ok := out.Item["ttl"].(*types.AttributeValueMemberN)
		var at time.Time
		if ok {
			secs, _ := strconv.ParseInt(n.Value, 10, 64)
			at = time.Unix(secs, 0)
		}
		if !ok || at.Before(c.from.Truncate(time.Second)) || at.After(c.to) {
			t.Errorf("%s: ttl %v, want from %v to %v", c.what, at, c.from, c.to)
		}
	}
}

// The balance item every event rewrites holds only the lots still holding
// points; closed lots are items of their own, written once, and the view
// still lists them.
func TestBalanceHotItemHoldsLiveLots(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := dynamotest.NewStore(t)
	lot := func(day string, remaining int64) ports.Lot {
		return ports.Lot{IssuedOn: day, ExpiresOn: day + "x", Issued: 10, Remaining: remaining, Expired: 10 - remaining, LastUpdated: t0}
	}
	// A year of daily lots, all but the last spent or expired.
	var lots []ports.Lot
	for d := range 365 {
		lots = append(lots, lot(t0.AddDate(0, 0, d).Format(time.DateOnly), 0))
	}
	lots[len(lots)-1].Remaining = 4
	err := s.Balances().Update(ctx, "Store/derick", func(v *ports.BalanceView) (bool, error) {
		v.Seq, v.Lots, v.UpdatedAt, v.NextDue = 730, lots, t0, lots[len(lots)-1].ExpiresOn
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Client().GetItem(ctx, &ddb.GetItemInput{TableName: aws.String(s.Tables().Balances), ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "Store/derick"}, "sk": &types.AttributeValueMemberS{Value: "-"}}})
	if err != nil {
		t.Fatal(err)
	}
	hot, _ := out.Item["lots"].(*types.AttributeValueMemberL)
	if hot == nil || len(hot.Value) != 1 {
		t.Fatalf("the hot item holds %v, want the one live lot", out.Item["lots"])
	}
	if c := out.ConsumedCapacity; c != nil {
		t.Logf("reading the hot item of a year of daily lots: %.1f read units", aws.ToFloat64(c.CapacityUnits))
	}
	got, err := s.Balances().Get(ctx, "Store/derick")
	if err != nil || len(got.Lots) != 365 || got.Lots[364].Remaining != 4 || got.Lots[0] != lots[0] {
		t.Errorf("Get = %d lots, %v; want the year's 365", len(got.Lots), err)
	}
}
