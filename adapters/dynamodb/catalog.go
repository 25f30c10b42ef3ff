package dynamodb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
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
	return map[string]types.AttributeValue{"pk": str("P#" + id)}
}

func productFrom(m map[string]types.AttributeValue) (ports.Product, error) {
	it := item{m: m}
	p := ports.Product{ID: it.str("id"), Name: it.str("name"), Description: it.str("description"), Image: it.str("image"),
		Price: it.decimal("price"), Stock: it.num("stock"), Version: it.num("version"), UpdatedAt: it.time("at")}
	return p, it.err
}

func (c *Catalog) Get(ctx context.Context, id string) (ports.Product, error) {
	m, err := getItem(ctx, c.client, c.table, "P#"+id)
	if err != nil {
		return ports.Product{}, fmt.Errorf("product %s: %w", id, err)
	}
	if m == nil {
		return ports.Product{}, fmt.Errorf("product %s: %w", id, ports.ErrNotFound)
	}
	return productFrom(m)
}

// List scans: a catalog is a few hundred products, and the scan is filtered
// to them.
func (c *Catalog) List(ctx context.Context) ([]ports.Product, error) {
	p := ddb.NewScanPaginator(c.client, &ddb.ScanInput{TableName: aws.String(c.table), ConsistentRead: aws.Bool(true),
		FilterExpression: aws.String("begins_with(pk, :p)"), ExpressionAttributeValues: map[string]types.AttributeValue{":p": str("P#")}})
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
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (c *Catalog) Save(ctx context.Context, p ports.Product) error {
	values := map[string]types.AttributeValue{":id": str(p.ID), ":name": str(p.Name), ":description": str(p.Description),
		":image": str(p.Image), ":price": dec(p.Price), ":version": num(p.Version), ":at": str(formatTime(p.UpdatedAt))}
	set := "SET id = :id, #name = :name, description = :description, image = :image, price = :price, version = :version, #at = :at"
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
	m, err := getItem(ctx, s.client, s.table, "P#"+productID)
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
	m["order"], m["lines"], m["status"], m["exp"] = str(r.OrderID), str(string(lines)), str(r.Status), str(formatTime(r.ExpiresAt))
	if r.Status == ports.ReservationReserved {
		m["hk"], m["hs"] = str("HELD"), str(formatTime(r.ExpiresAt)+"|"+r.OrderID)
	}
	return m, nil
}

// reservation reads an order's reservation, or ports.ErrNotFound.
func (s *Stock) reservation(ctx context.Context, orderID string) (ports.Reservation, error) {
	r := ports.Reservation{OrderID: orderID}
	m, err := getItem(ctx, s.client, s.table, "R#"+orderID)
	if err != nil {
		return r, err
	}
	if m == nil {
		return r, fmt.Errorf("reservation of %s: %w", orderID, ports.ErrNotFound)
	}
	it := item{m: m}
	r.Status, r.ExpiresAt = it.str("status"), it.time("exp")
	lines := it.str("lines")
	if it.err != nil {
		return r, it.err
	}
	return r, json.Unmarshal([]byte(lines), &r.Lines)
}

// perProduct sums lines by product: a transaction touches an item once.
func perProduct(lines []ports.StockLine) []ports.StockLine {
	sum := map[string]int64{}
	var out []ports.StockLine
	for _, l := range lines {
		if _, seen := sum[l.ProductID]; !seen {
			out = append(out, ports.StockLine{ProductID: l.ProductID})
		}
		sum[l.ProductID] += l.Quantity
	}
	for i := range out {
		out[i].Quantity = sum[out[i].ProductID]
	}
	return out
}

// maxLines keeps a reservation within one transaction (100 items, one of
// which is the reservation).
const maxLines = 99

func (s *Stock) Reserve(ctx context.Context, orderID string, lines []ports.StockLine, expiresAt time.Time) (ports.Reservation, error) {
	r, err := s.reserve(ctx, orderID, lines, expiresAt)
	if err != nil {
		return r, fmt.Errorf("reserve stock for %s: %w", orderID, err)
	}
	return r, nil
}

func (s *Stock) reserve(ctx context.Context, orderID string, lines []ports.StockLine, expiresAt time.Time) (ports.Reservation, error) {
	merged := perProduct(lines)
	if len(merged) > maxLines {
		return ports.Reservation{}, fmt.Errorf("%d products in one reservation, at most %d", len(merged), maxLines)
	}
	r := ports.Reservation{OrderID: orderID, Lines: lines, Status: ports.ReservationReserved, ExpiresAt: expiresAt}
	put, err := reservationItem(r)
	if err != nil {
		return r, err
	}
	writes := []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String(s.table), Item: put, ConditionExpression: aws.String("attribute_not_exists(pk)")}}}
	for _, l := range merged {
		writes = append(writes, types.TransactWriteItem{Update: moveStock(s.table, l.ProductID, -l.Quantity)})
	}
	for range raceAttempts {
		if got, err := s.reservation(ctx, orderID); !errors.Is(err, ports.ErrNotFound) {
			return got, err // reserved already (or released first): nothing more to take
		}
		_, err := s.client.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: writes})
		if !lostRace(err) {
			return r, err
		}
		// Cancelled: a product is short or gone, the order was reserved
		// meanwhile, or another transaction touched the same items.
		for _, l := range merged {
			if err := s.shortOf(ctx, l.ProductID, -l.Quantity); err != nil {
				if got, rerr := s.reservation(ctx, orderID); rerr == nil {
					return got, nil
				}
				return r, err
			}
		}
	}
	return r, fmt.Errorf("%d attempts lost to concurrent changes: %w", raceAttempts, ports.ErrConflict)
}

// setStatus moves a held reservation to status, taking it out of the held
// index.
func (s *Stock) setStatus(orderID, status string) *types.Update {
	return &types.Update{TableName: aws.String(s.table), Key: reservationKey(orderID),
		UpdateExpression: aws.String("SET #status = :to REMOVE hk, hs"), ConditionExpression: aws.String("#status = :held"),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":to": str(status), ":held": str(ports.ReservationReserved)}}
}

func (s *Stock) Commit(ctx context.Context, orderID string) (ports.Reservation, error) {
	for range raceAttempts {
		r, err := s.reservation(ctx, orderID)
		if err != nil {
			return r, fmt.Errorf("commit stock of %s: %w", orderID, err)
		}
		switch r.Status {
		case ports.ReservationCommitted:
			return r, nil
		case ports.ReservationReleased:
			return r, fmt.Errorf("commit stock of %s: reservation was released: %w", orderID, ports.ErrConflict)
		}
		_, err = update(ctx, s.client, s.setStatus(orderID, ports.ReservationCommitted))
		if !lostRace(err) {
			if err != nil {
				return r, fmt.Errorf("commit stock of %s: %w", orderID, err)
			}
			r.Status = ports.ReservationCommitted
			return r, nil
		}
	}
	return ports.Reservation{}, fmt.Errorf("commit stock of %s: %w", orderID, ports.ErrConflict)
}

func (s *Stock) Release(ctx context.Context, orderID string) (ports.Reservation, error) {
	r, err := s.release(ctx, orderID)
	if err != nil {
		return r, fmt.Errorf("release stock of %s: %w", orderID, err)
	}
	return r, nil
}

func (s *Stock) release(ctx context.Context, orderID string) (ports.Reservation, error) {
	for range raceAttempts {
		r, err := s.reservation(ctx, orderID)
		var writes []types.TransactWriteItem
		switch {
		case errors.Is(err, ports.ErrNotFound):
			// Nothing reserved: remember the release so a late Reserve takes nothing.
			r = ports.Reservation{OrderID: orderID, Lines: []ports.StockLine{}, Status: ports.ReservationReleased}
			put, err := reservationItem(r)
			if err != nil {
				return r, err
			}
			writes = append(writes, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: put,
				ConditionExpression: aws.String("attribute_not_exists(pk)")}})
		case err != nil:
			return r, err
		case r.Status == ports.ReservationReleased:
			return r, nil
		case r.Status == ports.ReservationCommitted:
			return r, fmt.Errorf("reservation is committed: %w", ports.ErrConflict)
		default:
			writes = append(writes, types.TransactWriteItem{Update: s.setStatus(orderID, ports.ReservationReleased)})
			for _, l := range perProduct(r.Lines) {
				// A deleted product takes its stock with it.
				if m, err := getItem(ctx, s.client, s.table, "P#"+l.ProductID); err != nil {
					return r, err
				} else if m != nil {
					writes = append(writes, types.TransactWriteItem{Update: moveStock(s.table, l.ProductID, l.Quantity)})
				}
			}
			r.Status = ports.ReservationReleased
		}
		_, err = s.client.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: writes})
		if !lostRace(err) {
			return r, err
		}
	}
	return ports.Reservation{}, fmt.Errorf("%d attempts lost to concurrent changes: %w", raceAttempts, ports.ErrConflict)
}

// Expired reads the held index, which only reservations still held are in.
// It is eventually consistent: a reservation just committed may still be
// listed, and releasing it is then refused (ErrConflict) as it should be.
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

func (s *Stock) Adjust(ctx context.Context, productID string, delta int64) (int64, error) {
	updated, err := update(ctx, s.client, moveStock(s.table, productID, delta))
	if lostRace(err) {
		if err = s.shortOf(ctx, productID, delta); err == nil {
			err = ports.ErrConflict
		}
	}
	if err != nil {
		return 0, fmt.Errorf("adjust stock of %s: %w", productID, err)
	}
	it := item{m: updated}
	return it.num("stock"), it.err
}
