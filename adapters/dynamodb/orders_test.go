package dynamodb_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/adapters/dynamodb"
	"github.com/unicornstore/unicorn/adapters/dynamodb/dynamotest"
	"github.com/unicornstore/unicorn/ports"
)

func testOrder(id string, at time.Time, award []byte) ports.Order {
	one := decimal.NewFromInt(1)
	return ports.Order{ID: id, UserID: "derick", Client: "UnicornStore", Status: ports.OrderCompleted, Attempt: 1,
		Lines: []ports.OrderLine{{ProductID: "1", Name: "Unicorn", Quantity: 1, UnitPrice: one, Amount: one}},
		Total: one, PointsValue: decimal.Zero, Charged: one, Award: award, CreatedAt: at, UpdatedAt: at, Version: 1}
}

// idsIn returns n order ids of the recent index's partition shard, or of
// any other partition when shard is "other".
func idsIn(shard string, n int, prefix string) []string {
	var ids []string
	for i := 0; len(ids) < n; i++ {
		id := fmt.Sprint(prefix, i)
		if in := dynamodb.RecentShard(id) == shard; in == (prefix != "other-") {
			ids = append(ids, id)
		}
	}
	return ids
}

// A query of one partition stops at 1 MB, however few orders that is:
// every order still comes newest first across pages, the large orders of
// one partition among the small ones of the others.
func TestRecentOrdersPastAQueryMegabyte(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := dynamotest.NewStore(t).Orders()
	shard := dynamodb.RecentShard("big-0")
	// 12 orders of 150 KB, the newest, in one partition: a query reads
	// at most 6 of them; 20 small older ones in the others.
	award, _ := json.Marshal(strings.Repeat("x", 150<<10))
	var want []string
	for i, id := range idsIn(shard, 12, "big-") {
		if _, _, err := s.Create(ctx, testOrder(id, t0.Add(time.Duration(i+1)*time.Minute), award)); err != nil {
			t.Fatal(err)
		}
		want = append([]string{id}, want...)
	}
	for i, id := range idsIn(shard, 20, "other-") {
		if _, _, err := s.Create(ctx, testOrder(id, t0.Add(-time.Duration(i+1)*time.Minute), nil)); err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	var got []string
	for cursor := ""; ; {
		page, next, err := s.Recent(ctx, cursor, 20)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page {
			got = append(got, o.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if !slices.Equal(got, want) {
		t.Errorf("every order = %v\nwant newest first %v", got, want)
	}
}

// A cursor's position names an order of its partition: a long or foreign
// id is refused before it reaches DynamoDB, which would refuse the key as
// a server error.
func TestRecentOrdersCursorIsChecked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := dynamotest.NewStore(t).Orders()
	for i := range 3 {
		if _, _, err := s.Create(ctx, testOrder(fmt.Sprint("o-", i), t0.Add(time.Duration(i)*time.Minute), nil)); err != nil {
			t.Fatal(err)
		}
	}
	_, cursor, err := s.Recent(ctx, "", 1)
	if err != nil || cursor == "" {
		t.Fatalf("Recent = %q, %v", cursor, err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(cursor)
	var at []string
	if err := json.Unmarshal(raw, &at); err != nil {
		t.Fatalf("the cursor %s: %v", raw, err)
	}
	taken := slices.IndexFunc(at, func(p string) bool { return strings.Contains(p, "|") })
	if taken < 0 {
		t.Fatalf("no position in %s", raw)
	}
	created, _, _ := strings.Cut(at[taken], "|")
	other := idsIn(fmt.Sprint("ALL#", taken), 1, "other-")[0]
	for what, pos := range map[string]string{
		"an id of 3000 characters": created + "|o-" + strings.Repeat("1", 3000),
		"an id no order can have":  created + "|o#1",
		"an id of another shard":   created + "|" + other,
		"not a time":               "yesterday|o-1",
	} {
		forged := slices.Clone(at)
		forged[taken] = pos
		b, _ := json.Marshal(forged)
		if _, _, err := s.Recent(ctx, base64.RawURLEncoding.EncodeToString(b), 1); !errors.Is(err, ports.ErrBadCursor) {
			t.Errorf("%s: %v, want ErrBadCursor", what, err)
		}
	}
	b, _ := json.Marshal(at[:3])
	if _, _, err := s.Recent(ctx, base64.RawURLEncoding.EncodeToString(b), 1); !errors.Is(err, ports.ErrBadCursor) {
		t.Errorf("three positions: %v, want ErrBadCursor", err)
	}
}
