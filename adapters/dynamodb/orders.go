package dynamodb

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/unicornstore/unicorn/limits"
	"github.com/unicornstore/unicorn/ports"
)

// Orders stores orders on DynamoDB (ports.Orders): each is one item holding
// its JSON, with the keys of three indexes: by user (newest first), while
// open by status (oldest first), and every order in one of recentShards
// partitions (Recent). Updates are optimistic on the version.
type Orders struct {
	client *ddb.Client
	table  string
}

// Orders returns the store's orders.
func (s *Store) Orders() *Orders { return &Orders{client: s.client, table: s.tables.Retail} }

var _ ports.Orders = (*Orders)(nil)

func orderItem(o ports.Order) (map[string]types.AttributeValue, error) {
	data, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	sortKey := orderSortKey(o)
	m := map[string]types.AttributeValue{"pk": str("O#" + o.ID), "data": str(string(data)), "version": num(o.Version),
		"uk": str(o.UserID), "us": str(sortKey), "rk": str(recentShard(o.ID))}
	if listed := o.ListedStatus(); openStatus(listed) {
		// Only open orders are in the status index: each status is one
		// partition of it, and a partition of every completed order ever
		// would grow without end.
		m["stk"], m["sts"] = str(listed), str(sortKey)
	}
	return m, nil
}

// orderSortKey orders an order in the indexes: by when it was created,
// then by id ("us", "sts").
func orderSortKey(o ports.Order) string { return formatTime(o.CreatedAt) + "|" + o.ID }

// openStatus reports whether orders in status are listed by status: those
// an operator looks at, still pending or needing attention.
func openStatus(status string) bool {
	return status == ports.OrderPending || status == ports.OrderNeedsAttention || status == ports.OrderReturning
}

func orderFrom(m map[string]types.AttributeValue) (ports.Order, error) {
	var o ports.Order
	it := item{m: m}
	data := it.str("data")
	if it.err != nil {
		return o, it.err
	}
	return o, json.Unmarshal([]byte(data), &o)
}

func (s *Orders) Create(ctx context.Context, o ports.Order) (ports.Order, bool, error) {
	m, err := orderItem(o)
	if err != nil {
		return o, false, fmt.Errorf("create order %s: %w", o.ID, err)
	}
	_, err = s.client.PutItem(ctx, &ddb.PutItemInput{TableName: aws.String(s.table), Item: m, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	if lostRace(err) {
		stored, err := s.Get(ctx, o.ID)
		return stored, false, err
	}
	if err != nil {
		return o, false, fmt.Errorf("create order %s: %w", o.ID, err)
	}
	return o, true, nil
}

func (s *Orders) Get(ctx context.Context, id string) (ports.Order, error) {
	m, err := getItem(ctx, s.client, s.table, "O#"+id)
	if err != nil {
		return ports.Order{}, fmt.Errorf("order %s: %w", id, err)
	}
	if m == nil {
		return ports.Order{}, fmt.Errorf("order %s: %w", id, ports.ErrNotFound)
	}
	o, err := orderFrom(m)
	if err != nil {
		return o, fmt.Errorf("order %s: %w", id, err)
	}
	return o, nil
}

func (s *Orders) Update(ctx context.Context, id string, fn func(*ports.Order) error) (ports.Order, error) {
	for range raceAttempts {
		o, err := s.Get(ctx, id)
		if err != nil {
			return o, fmt.Errorf("update order %s: %w", id, err)
		}
		if err := fn(&o); err != nil {
			return o, fmt.Errorf("update order %s: %w", id, err)
		}
		o.Version++
		m, err := orderItem(o)
		if err != nil {
			return o, fmt.Errorf("update order %s: %w", id, err)
		}
		_, err = s.client.PutItem(ctx, &ddb.PutItemInput{TableName: aws.String(s.table), Item: m,
			ConditionExpression: aws.String("version = :prev"), ExpressionAttributeValues: map[string]types.AttributeValue{":prev": num(o.Version - 1)}})
		if !lostRace(err) {
			if err != nil {
				return o, fmt.Errorf("update order %s: %w", id, err)
			}
			return o, nil
		}
	}
	return ports.Order{}, fmt.Errorf("update order %s: %d attempts lost to concurrent updates: %w", id, raceAttempts, ports.ErrConflict)
}

func (s *Orders) query(ctx context.Context, in *ddb.QueryInput) ([]ports.Order, map[string]types.AttributeValue, error) {
	out, err := s.client.Query(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	orders := make([]ports.Order, 0, len(out.Items))
	for _, m := range out.Items {
		o, err := orderFrom(m)
		if err != nil {
			return nil, nil, err
		}
		orders = append(orders, o)
	}
	return orders, out.LastEvaluatedKey, nil
}

// ByUser reads the user index, newest first. Like every index it is
// eventually consistent: an order placed a moment ago may be missing.
func (s *Orders) ByUser(ctx context.Context, userID, cursor string, limit int) ([]ports.Order, string, error) {
	start, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", fmt.Errorf("orders of %s: %w", userID, err)
	}
	// A cursor is only ever the last key of a page of the same user's
	// orders: any other is not one this query made.
	if start != nil {
		uk, ok := start["uk"].(*types.AttributeValueMemberS)
		for k := range start {
			ok = ok && (k == "pk" || k == "uk" || k == "us")
		}
		if !ok || uk.Value != userID {
			return nil, "", fmt.Errorf("orders of %s: %w", userID, ports.ErrBadCursor)
		}
	}
	orders, last, err := s.query(ctx, &ddb.QueryInput{TableName: aws.String(s.table), IndexName: aws.String(userIndex),
		KeyConditionExpression: aws.String("uk = :u"), ExpressionAttributeValues: map[string]types.AttributeValue{":u": str(userID)},
		ScanIndexForward: aws.Bool(false), Limit: aws.Int32(int32(limit)), ExclusiveStartKey: start})
	if err != nil {
		return nil, "", fmt.Errorf("orders of %s: %w", userID, err)
	}
	next, err := encodeCursor(last)
	if err != nil {
		return nil, "", fmt.Errorf("orders of %s: %w", userID, err)
	}
	return orders, next, nil
}

// WithStatus lists open orders (pending, needs_attention), oldest first,
// from the sparse status index; another status is refused, as it is not
// indexed.
func (s *Orders) WithStatus(ctx context.Context, status string, limit int) ([]ports.Order, error) {
	if !openStatus(status) {
		return nil, fmt.Errorf("orders %s: %w", status, ports.Invalid("status", "only %s, %s and %s orders are listed by status",
			ports.OrderPending, ports.OrderNeedsAttention, ports.OrderReturning))
	}
	orders, _, err := s.query(ctx, &ddb.QueryInput{TableName: aws.String(s.table), IndexName: aws.String(statusIndex),
		KeyConditionExpression: aws.String("stk = :s"), ExpressionAttributeValues: map[string]types.AttributeValue{":s": str(status)},
		Limit: aws.Int32(int32(limit))})
	if err != nil {
		return nil, fmt.Errorf("orders %s: %w", status, err)
	}
	return orders, nil
}

// recentShards is how many partitions the recent index spreads orders
// over: one partition would take every order's writes (its limit is about
// 1,000 a second), and each page of Recent reads them all.
const recentShards = 8

// recentShard is the recent index's partition of an order.
func recentShard(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return recentKey(int(h.Sum32() % recentShards))
}

// recentKey is the recent index's partition key of shard n.
func recentKey(n int) string { return fmt.Sprint("ALL#", n) }

// exhausted marks a shard of a Recent cursor with nothing left to read.
const exhausted = "~"

// Recent reads every shard of the recent index newest first and merges
// them: a page is the newest limit of their heads. The cursor holds each
// shard's position: "" (from its newest), the sort key of the last order
// taken from it, or exhausted. Like every index it is eventually
// consistent: an order placed a moment ago may be missing.
func (s *Orders) Recent(ctx context.Context, cursor string, limit int) ([]ports.Order, string, error) {
	at, err := decodeRecentCursor(cursor)
	if err != nil {
		return nil, "", fmt.Errorf("recent orders: %w", err)
	}
	type head struct {
		orders []ports.Order
		more   bool // the shard holds more than was read
		err    error
	}
	heads := make([]head, recentShards)
	var wg sync.WaitGroup
	for i, pos := range at {
		if pos == exhausted {
			continue
		}
		wg.Go(func() {
			shard := recentKey(i)
			var start map[string]types.AttributeValue
			if pos != "" {
				_, id, _ := strings.Cut(pos, "|")
				start = map[string]types.AttributeValue{"rk": str(shard), "us": str(pos), "pk": str("O#" + id)}
			}
			// A query stops at 1 MB, however few orders that is: the
			// shard is asked again until it gives limit orders or has no
			// more, or the merge would take older orders of other shards
			// ahead of its newer ones.
			var h head
			for len(h.orders) < limit {
				orders, last, err := s.query(ctx, &ddb.QueryInput{TableName: aws.String(s.table), IndexName: aws.String(recentIndex),
					KeyConditionExpression: aws.String("rk = :r"), ExpressionAttributeValues: map[string]types.AttributeValue{":r": str(shard)},
					ScanIndexForward: aws.Bool(false), Limit: aws.Int32(int32(limit - len(h.orders))), ExclusiveStartKey: start})
				h.orders, h.more, h.err, start = append(h.orders, orders...), len(last) > 0, err, last
				if err != nil || !h.more {
					break
				}
			}
			heads[i] = h
		})
	}
	wg.Wait()
	type taken struct {
		shard int
		key   string
		order ports.Order
	}
	var all []taken
	for i, h := range heads {
		if h.err != nil {
			return nil, "", fmt.Errorf("recent orders: %w", h.err)
		}
		for _, o := range h.orders {
			all = append(all, taken{i, orderSortKey(o), o})
		}
	}
	slices.SortFunc(all, func(a, b taken) int { return strings.Compare(b.key, a.key) })
	all = all[:min(limit, len(all))]
	page := make([]ports.Order, len(all))
	left := make([]int, recentShards) // orders read from each shard and not taken
	for i, h := range heads {
		left[i] = len(h.orders)
	}
	for i, t := range all {
		page[i] = t.order
		at[t.shard] = t.key
		left[t.shard]--
	}
	done := true
	for i, h := range heads {
		if at[i] != exhausted && !h.more && left[i] == 0 {
			at[i] = exhausted
		}
		done = done && at[i] == exhausted
	}
	if done {
		return page, "", nil
	}
	next, err := json.Marshal(at)
	if err != nil {
		return nil, "", fmt.Errorf("recent orders: %w", err)
	}
	return page, base64.RawURLEncoding.EncodeToString(next), nil
}

// decodeRecentCursor reads the shards' positions of a Recent cursor ("":
// each from its newest).
func decodeRecentCursor(cursor string) ([]string, error) {
	at := make([]string, recentShards)
	if cursor == "" {
		return at, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || json.Unmarshal(b, &at) != nil || len(at) != recentShards {
		return nil, ports.ErrBadCursor
	}
	for i, pos := range at {
		created, id, ok := strings.Cut(pos, "|")
		if pos == "" || pos == exhausted {
			continue
		}
		// Only an order of the shard is a position in it: anything else
		// is not a cursor this store made (and a key DynamoDB might
		// refuse, as a 500, for its length).
		if _, err := parseTime(created); !ok || err != nil || !limits.ID.MatchString(id) || recentShard(id) != recentKey(i) {
			return nil, ports.ErrBadCursor
		}
	}
	return at, nil
}
