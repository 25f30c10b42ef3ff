package dynamodb_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
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
