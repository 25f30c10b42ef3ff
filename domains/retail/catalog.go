package retail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/limits"
	"github.com/unicornstore/unicorn/ports"
)

// ProductDraft is a product as an admin writes it.
type ProductDraft struct {
	ID          string
	Name        string
	Description string
	Image       string
	Price       decimal.Decimal
	Stock       int64 // on creation only; later through Restock
}

// maxPrice keeps prices sane: a typo cannot list a unicorn for 1e30.
var maxPrice = decimal.NewFromInt(limits.MaxMoney)

// check validates a draft.
func (d ProductDraft) check() error {
	switch {
	case !limits.ID.MatchString(d.ID):
		return invalid("id", "a product id is %s", limits.IDRule)
	case strings.TrimSpace(d.Name) == "" || utf8.RuneCountInString(d.Name) > limits.ProductNameChars:
		return invalid("name", "a name is 1 to %d characters", limits.ProductNameChars)
	case utf8.RuneCountInString(d.Description) > limits.DescriptionChars:
		return invalid("description", "a description has at most %d characters", limits.DescriptionChars)
	case len(d.Image) > limits.ImageChars || d.Image != "" && !strings.HasPrefix(d.Image, "/") && !strings.HasPrefix(d.Image, "https://"):
		return invalid("image", "an image is a path on this server (/images/...) or an https:// address")
	case d.Price.IsNegative() || d.Price.GreaterThan(maxPrice) || !d.Price.Equal(d.Price.Round(2)):
		return invalid("price", "a price is from 0 to 1,000,000,000 with at most 2 decimals")
	case d.Stock < 0 || d.Stock > 1_000_000_000:
		return invalid("stock", "stock is a whole number from 0 to 1,000,000,000")
	}
	return nil
}

// Catalog is the product catalog.
type Catalog struct {
	catalog ports.Catalog
	stock   ports.Stock
	search  ports.ProductSearch // optional: nil searches by name only
	clock   ports.Clock
	client  string // the store's
}

// NewCatalog returns the catalog service of the store's client.
func NewCatalog(catalog ports.Catalog, stock ports.Stock, search ports.ProductSearch, clock ports.Clock, client string) *Catalog {
	return &Catalog{catalog: catalog, stock: stock, search: search, clock: clock, client: client}
}

func notFound(err error, what string) error {
	if errors.Is(err, ports.ErrNotFound) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return err
}

// Product returns one product.
func (c *Catalog) Product(ctx context.Context, id string) (ports.Product, error) {
	p, err := c.catalog.Get(ctx, id)
	return p, notFound(err, "product "+id)
}

// Products lists the catalog, or the products matching query (the search
// read model, kept in sync by the product change stream).
func (c *Catalog) Products(ctx context.Context, query string) ([]ports.Product, error) {
	all, err := c.catalog.List(ctx)
	if err != nil || strings.TrimSpace(query) == "" {
		return all, err
	}
	if len(query) > limits.SearchChars {
		return nil, invalid("q", "a search has at most %d characters", limits.SearchChars)
	}
	if !utf8.ValidString(query) || strings.ContainsFunc(query, unicode.IsControl) {
		// Words to find hold neither; each search index would make
		// something else of them (a separator, the end of the text).
		return nil, invalid("q", "a search is UTF-8 text without control characters")
	}
	ids, err := c.search.Search(ctx, query, 100)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]ports.Product, len(all))
	for _, p := range all {
		byID[p.ID] = p
	}
	out := make([]ports.Product, 0, len(ids))
	for _, id := range ids {
		if p, ok := byID[id]; ok { // the index may lag a deletion
			out = append(out, p)
		}
	}
	return out, nil
}

// Create adds a product.
func (c *Catalog) Create(ctx context.Context, d ProductDraft) (ports.Product, error) {
	if err := d.check(); err != nil {
		return ports.Product{}, err
	}
	if !limits.PathName(d.ID) {
		return ports.Product{}, invalid("id", "a product id is not . or ..: /products/{id} could not reach it")
	}
	p := ports.Product{ID: d.ID, Name: strings.TrimSpace(d.Name), Description: d.Description, Image: d.Image,
		Price: d.Price, Stock: d.Stock, Version: 1, UpdatedAt: c.clock.Now().UTC()}
	if err := c.catalog.Save(ctx, p); err != nil {
		if errors.Is(err, ports.ErrConflict) {
			return p, fmt.Errorf("product %s: %w", d.ID, ErrExists)
		}
		return p, err
	}
	return p, nil
}

// Update changes a product's name, description, image and price.
// ifVersion, when not 0, must be the current version.
func (c *Catalog) Update(ctx context.Context, d ProductDraft, ifVersion int64) (ports.Product, error) {
	cur, err := c.Product(ctx, d.ID)
	if err != nil {
		return cur, err
	}
	d.Stock = cur.Stock
	if err := d.check(); err != nil {
		return cur, err
	}
	if ifVersion != 0 && ifVersion != cur.Version {
		return cur, fmt.Errorf("product %s is at version %d: %w", d.ID, cur.Version, ErrStale)
	}
	p := cur
	p.Name, p.Description, p.Image, p.Price = strings.TrimSpace(d.Name), d.Description, d.Image, d.Price
	p.Version, p.UpdatedAt = cur.Version+1, c.clock.Now().UTC()
	if err := c.catalog.Save(ctx, p); err != nil {
		if errors.Is(err, ports.ErrConflict) {
			return cur, fmt.Errorf("product %s changed meanwhile: %w", d.ID, ErrStale)
		}
		return cur, err
	}
	return p, nil
}

// Delete removes a product.
func (c *Catalog) Delete(ctx context.Context, id string, ifVersion int64) error {
	cur, err := c.Product(ctx, id)
	if err != nil {
		return err
	}
	if ifVersion != 0 && ifVersion != cur.Version {
		return fmt.Errorf("product %s is at version %d: %w", id, cur.Version, ErrStale)
	}
	err = c.catalog.Delete(ctx, id, cur.Version)
	if errors.Is(err, ports.ErrConflict) {
		return fmt.Errorf("product %s changed meanwhile: %w", id, ErrStale)
	}
	return notFound(err, "product "+id)
}

// Restock adds (or, negative, removes) stock, once per key: a repeat of
// the key answers the stock the first call left; the key used for another
// change is ErrKeyReused and moves nothing. Keys are the store's (scoped
// by its client).
func (c *Catalog) Restock(ctx context.Context, id string, delta int64, key string) (int64, error) {
	switch {
	case delta == 0 || delta > 1_000_000 || delta < -1_000_000:
		return 0, invalid("delta", "delta is a whole number from -1,000,000 to 1,000,000, not 0")
	case key == "" || len(key) > limits.IdempotencyKeyChars:
		return 0, invalid("Idempotency-Key", "an idempotency key has 1 to %d characters", limits.IdempotencyKeyChars)
	}
	a := ports.StockAdjustment{Key: c.client + "/" + key, ProductID: id, Delta: delta, At: c.clock.Now().UTC()}
	done, err := c.stock.Adjust(ctx, a)
	if errors.Is(err, ports.ErrDuplicate) {
		if done.ProductID != id || done.Delta != delta {
			return 0, fmt.Errorf("stock of %s: %w", id, ErrKeyReused)
		}
		return done.Stock, nil
	}
	var ie *ports.InsufficientError
	if errors.As(err, &ie) {
		return 0, invalid("delta", "only %s in stock", ie.Available)
	}
	return done.Stock, notFound(err, "product "+id)
}

// IndexChange keeps the search read model in step with a product change
// delivered from the outbox.
func (c *Catalog) IndexChange(ctx context.Context, m ports.Message) error {
	var ch ports.ProductChange
	if err := json.Unmarshal(m.Payload, &ch); err != nil {
		return fmt.Errorf("decode product change %d: %w", m.ID, err)
	}
	switch ch.Change {
	case "deleted":
		return c.search.Remove(ctx, ch.Product.ID, ch.Product.Version)
	case "stock":
		return nil // stock is not searched
	}
	return c.search.Index(ctx, ch.Product)
}
