package dynamodb

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/unicornstore/unicorn/ports"
)

// Orders stores orders on DynamoDB (ports.Orders): each is one item holding
// its JSON, with the keys of two indexes, by user (newest first) and, while
// open, by status (oldest first). Updates are optimistic on the version.
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
	sortKey := formatTime(o.CreatedAt) + "|" + o.ID
	m := map[string]types.AttributeValue{"pk": str("O#" + o.ID), "data": str(string(data)), "version": num(o.Version),
		"uk": str(o.UserID), "us": str(sortKey)}
	if listed := o.ListedStatus(); openStatus(listed) {
		// Only open orders are in the status index: each status is one
		// partition of it, and a partition of every completed order ever
		// would grow without end.
		m["stk"], m["sts"] = str(listed), str(sortKey)
	}
	return m, nil
}

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
