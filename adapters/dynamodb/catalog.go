package dynamodb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/unicornstore/unicorn/ports"
)

// Catalog stores products on DynamoDB (ports.Catalog), one item each.
// Changes reach subscribers through the table's stream, not an outbox.
type Catalog struct {
	client *ddb.Client
	table  string
}

// Stock moves product stock by reservations (ports.Stock). A product's
// stock is a number that only conditional updates move, so it never goes
// below zero, and a reservation takes its lines in one transaction.
type Stock struct {
	client *ddb.Client
	table  string
}

// productPrefix starts the partition key of a product's item.
const productPrefix = "P#"

// Catalog returns the store's catalog.
func (s *Store) Catalog() *Catalog { return &Catalog{client: s.client, table: s.tables.Retail} }

// Stock returns the stock of the store's catalog.
func (s *Store) Stock() *Stock { return &Stock{client: s.client, table: s.tables.Retail} }

var (
	_ ports.Catalog = (*Catalog)(nil)
	_ ports.Stock   = (*Stock)(nil)
)

// raceAttempts bounds how often one call re-reads after losing a race.
const raceAttempts = 100

func productKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str(productPrefix + id)}
}

func productFrom(m map[string]types.AttributeValue) (ports.Product, error) {
	it := item{m: m}
	p := ports.Product{ID: it.str("id"), Name: it.str("name"), Description: it.str("description"), Image: it.str("image"),
		Price: it.decimal("price"), Stock: it.num("stock"), Version: it.num("version"), UpdatedAt: it.time("at")}
	return p, it.err
}

func (c *Catalog) Get(ctx context.Context, id string) (ports.Product, error) {
	m, err := getItem(ctx, c.client, c.table, productPrefix+id)
	if err != nil {
		return ports.Product{}, fmt.Errorf("product %s: %w", id, err)
	}
	if m == nil {
		return ports.Product{}, fmt.Errorf("product %s: %w", id, ports.ErrNotFound)
	}
	return productFrom(m)
}

// List queries the sparse products index, which only product items are
// in (they alone carry "ck"): the catalog page reads products and nothing
// else of the retail table, in id order. Like every index it is
// eventually consistent: a product saved a moment ago may be missing.
func (c *Catalog) List(ctx context.Context) ([]ports.Product, error) {
	p := ddb.NewQueryPaginator(c.client, &ddb.QueryInput{TableName: aws.String(c.table), IndexName: aws.String(productIndex),
		KeyConditionExpression: aws.String("ck = :p"), ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(productPartition)}})
	var out []ports.Product
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list products: %w", err)
		}
		for _, m := range page.Items {
			pr, err := productFrom(m)
			if err != nil {
				return nil, fmt.Errorf("list products: %w", err)
			}
			out = append(out, pr)
		}
	}
	return out, nil
}

// productPartition is the products index's one partition: a catalog is a
// few hundred products, a few hundred kilobytes.
const productPartition = "P"

func (c *Catalog) Save(ctx context.Context, p ports.Product) error {
	values := map[string]types.AttributeValue{":id": str(p.ID), ":ck": str(productPartition), ":name": str(p.Name), ":description": str(p.Description),
		":image": str(p.Image), ":price": dec(p.Price), ":version": num(p.Version), ":at": str(formatTime(p.UpdatedAt))}
	set := "SET id = :id, ck = :ck, #name = :name, description = :description, image = :image, price = :price, version = :version, #at = :at"
	var cond string
	if p.Version == 1 {
		// Stock is written once, when the product is created.
		set += ", stock = :stock"
		values[":stock"] = num(p.Stock)
		cond = "attribute_not_exists(pk)"
	} else {
		cond = "version = :prev"
		values[":prev"] = num(p.Version - 1)
	}
	_, err := c.client.UpdateItem(ctx, &ddb.UpdateItemInput{TableName: aws.String(c.table), Key: productKey(p.ID),
		UpdateExpression: aws.String(set), ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: map[string]string{"#name": "name", "#at": "at"}, ExpressionAttributeValues: values})
	if lostRace(err) {
		return fmt.Errorf("save product %s v%d: %w", p.ID, p.Version, ports.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("save product %s: %w", p.ID, err)
	}
	return nil
}

func (c *Catalog) Delete(ctx context.Context, id string, version int64) error {
	_, err := c.client.DeleteItem(ctx, &ddb.DeleteItemInput{TableName: aws.String(c.table), Key: productKey(id),
		ConditionExpression: aws.String("version = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(version)}})
	if lostRace(err) {
		if _, gerr := c.Get(ctx, id); gerr != nil {
			return fmt.Errorf("delete product %s: %w", id, gerr)
		}
		return fmt.Errorf("delete product %s at version %d: %w", id, version, ports.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("delete product %s: %w", id, err)
	}
	return nil
}

// moveStock is the update that adds delta to a product's stock, on
// condition that the product exists and the stock stays at or above zero.
func moveStock(table, productID string, delta int64) *types.Update {
	return &types.Update{TableName: aws.String(table), Key: productKey(productID),
		UpdateExpression:          aws.String("SET stock = stock + :d"),
		ConditionExpression:       aws.String("attribute_exists(pk) AND stock >= :min"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": num(delta), ":min": num(max(0, -delta))}}
}

// shortOf explains why moving a product's stock by delta failed its
// condition: the product is gone, or has too little.
func (s *Stock) shortOf(ctx context.Context, productID string, delta int64) error {
	m, err := getItem(ctx, s.client, s.table, productPrefix+productID)
	switch {
	case err != nil:
		return err
	case m == nil:
		return fmt.Errorf("product %s: %w", productID, ports.ErrNotFound)
	}
	it := item{m: m}
	if stock := it.num("stock"); it.err == nil && stock+delta < 0 {
		return &ports.InsufficientError{What: "stock", ID: productID, Available: strconv.FormatInt(stock, 10)}
	}
	return it.err
}

func reservationKey(orderID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str("R#" + orderID)}
}

func reservationItem(r ports.Reservation) (map[string]types.AttributeValue, error) {
	lines, err := json.Marshal(r.Lines)
	if err != nil {
		return nil, err
	}
	m := reservationKey(r.OrderID)
	m["order"], m["lines"], m["status"], m["exp"], m["version"] = str(r.OrderID), str(string(lines)), str(r.Status), str(formatTime(r.ExpiresAt)), num(r.Version)
	if r.Status == ports.ReservationReserved {
		// Only a held reservation is in the index the sweeper reads.
		m["hk"], m["hs"] = str("HELD"), str(formatTime(r.ExpiresAt)+"|"+r.OrderID)
	}
	return m, nil
}

func (s *Stock) Reservation(ctx context.Context, orderID string) (ports.Reservation, error) {
	r := ports.Reservation{OrderID: orderID}
	m, err := getItem(ctx, s.client, s.table, "R#"+orderID)
	if err != nil {
		return r, fmt.Errorf("reservation of %s: %w", orderID, err)
	}
	if m == nil {
		return r, fmt.Errorf("reservation of %s: %w", orderID, ports.ErrNotFound)
	}
	it := item{m: m}
	r.Status, r.ExpiresAt, r.Version = it.str("status"), it.time("exp"), it.numOr("version", 1)
	lines := it.str("lines")
	if it.err != nil {
		return r, fmt.Errorf("reservation of %s: %w", orderID, it.err)
	}
	return r, json.Unmarshal([]byte(lines), &r.Lines)
}

// maxLines keeps a reservation within one transaction (100 items, one of
// which is the reservation).
const maxLines = 99

func (s *Stock) SaveReservation(ctx context.Context, r ports.Reservation, moves []ports.StockMove) error {
	if err := s.saveReservation(ctx, r, moves); err != nil {
		return fmt.Errorf("save reservation of %s: %w", r.OrderID, err)
	}
	return nil
}

func (s *Stock) saveReservation(ctx context.Context, r ports.Reservation, moves []ports.StockMove) error {
	if len(moves) > maxLines {
		return fmt.Errorf("%d products in one reservation, at most %d", len(moves), maxLines)
	}
	put, err := reservationItem(r)
	if err != nil {
		return err
	}
	p := &types.Put{TableName: aws.String(s.table), Item: put, ConditionExpression: aws.String("attribute_not_exists(pk)")}
	if r.Version > 1 {
		p.ConditionExpression, p.ExpressionAttributeValues = versionIs(r.Version - 1)
	}
	writes := []types.TransactWriteItem{{Put: p}}
	for _, m := range moves {
		if m.SkipMissing {
			if it, err := getItem(ctx, s.client, s.table, productPrefix+m.ProductID); err != nil {
				return err
			} else if it == nil {
				continue
			}
		}
		writes = append(writes, types.TransactWriteItem{Update: moveStock(s.table, m.ProductID, m.Delta)})
	}
	_, err = s.client.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: writes})
	if !lostRace(err) {
		return err
	}
	// Cancelled: the reservation moved, a product is short or gone, or a
	// concurrent transaction touched the same items. Read to say which.
	cur, err := s.Reservation(ctx, r.OrderID)
	switch {
	case err == nil && cur.Version != r.Version-1, errors.Is(err, ports.ErrNotFound) && r.Version > 1:
		return fmt.Errorf("reservation of %s moved from version %d: %w", r.OrderID, r.Version-1, ports.ErrConflict)
	case err != nil && !errors.Is(err, ports.ErrNotFound):
		return err
	}
	for _, m := range moves {
		if err := s.shortOf(ctx, m.ProductID, m.Delta); err != nil && !(m.SkipMissing && errors.Is(err, ports.ErrNotFound)) {
			return err
		}
	}
	return fmt.Errorf("reservation of %s at version %d: %w", r.OrderID, r.Version, ports.ErrConflict)
}

// Expired reads the held index, which only reservations still held are in.
// It is eventually consistent: a reservation just committed may still be
// listed, and the domain then finds it committed.
func (s *Stock) Expired(ctx context.Context, now time.Time, limit int) ([]string, error) {
	out, err := s.client.Query(ctx, &ddb.QueryInput{TableName: aws.String(s.table), IndexName: aws.String(heldIndex),
		KeyConditionExpression: aws.String("hk = :held AND hs < :until"), Limit: aws.Int32(int32(limit)),
		// "}" sorts after "|": every reservation expiring at now is included.
		ExpressionAttributeValues: map[string]types.AttributeValue{":held": str("HELD"), ":until": str(formatTime(now) + "}")}})
	if err != nil {
		return nil, fmt.Errorf("expired reservations: %w", err)
	}
	ids := make([]string, 0, len(out.Items))
	for _, m := range out.Items {
		it := item{m: m}
		ids = append(ids, strings.TrimPrefix(it.str("pk"), "R#"))
		if it.err != nil {
			return nil, fmt.Errorf("expired reservations: %w", it.err)
		}
	}
	return ids, nil
}

func adjustmentKey(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str("J#" + key)}
}

func (s *Stock) Adjust(ctx context.Context, a ports.StockAdjustment) (ports.StockAdjustment, error) {
	done, err := s.adjust(ctx, a)
	if err != nil {
		return done, fmt.Errorf("adjust stock of %s: %w", a.ProductID, err)
	}
	return done, nil
}

func (s *Stock) adjust(ctx context.Context, a ports.StockAdjustment) (ports.StockAdjustment, error) {
	for range raceAttempts {
		if done, found, err := s.adjustment(ctx, a.Key); err != nil || found {
			if found {
				err = fmt.Errorf("stock adjustment %q: %w", a.Key, ports.ErrDuplicate)
			}
			return done, err
		}
		p, err := getItem(ctx, s.client, s.table, productPrefix+a.ProductID)
		if err != nil {
			return a, err
		}
		if p == nil {
			return a, fmt.Errorf("product %s: %w", a.ProductID, ports.ErrNotFound)
		}
		it := item{m: p}
		stock := it.num("stock")
		if it.err != nil {
			return a, it.err
		}
		if stock+a.Delta < 0 {
			return a, &ports.InsufficientError{What: "stock", ID: a.ProductID, Available: strconv.FormatInt(stock, 10)}
		}
		// The stock read is the condition: the record keeps the stock
		// this very change left.
		a.Stock = stock + a.Delta
		rec := adjustmentKey(a.Key)
		rec["product"], rec["delta"], rec["stock"], rec["at"] = str(a.ProductID), num(a.Delta), num(a.Stock), str(formatTime(a.At))
		_, err = s.client.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String(s.table), Item: rec, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
			{Update: &types.Update{TableName: aws.String(s.table), Key: productKey(a.ProductID),
				UpdateExpression:          aws.String("SET stock = :to"),
				ConditionExpression:       aws.String("attribute_exists(pk) AND stock = :from"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":to": num(a.Stock), ":from": num(stock)}}},
		}})
		if !lostRace(err) {
			return a, err
		}
	}
	return a, fmt.Errorf("%d attempts lost to concurrent changes: %w", raceAttempts, ports.ErrConflict)
}

// adjustment reads the adjustment recorded under key.
func (s *Stock) adjustment(ctx context.Context, key string) (ports.StockAdjustment, bool, error) {
	m, err := getItem(ctx, s.client, s.table, "J#"+key)
	if err != nil || m == nil {
		return ports.StockAdjustment{Key: key}, false, err
	}
	it := item{m: m}
	a := ports.StockAdjustment{Key: key, ProductID: it.str("product"), Delta: it.num("delta"), Stock: it.num("stock"), At: it.time("at")}
	return a, true, it.err
}
