package ports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

func init() {
	// Money is written as a JSON number with its exact digits (1700.50),
	// as clients expect, not as a string. Reading accepts both.
	decimal.MarshalJSONWithoutQuotes = true
}

// Outbox topics of the store.
const (
	// TopicProducts carries a ProductChange for every product created,
	// updated or deleted, and every change of stock.
	TopicProducts = "retail.products"
	// TopicPurchases carries a PurchaseCompleted for every completed order.
	TopicPurchases = "retail.purchases"
)

// ErrInsufficient: a conditional decrement found less than it needed (stock,
// money). Adapters return it wrapped in an *InsufficientError.
var ErrInsufficient = errors.New("insufficient")

// InsufficientError says what was short and how much there was.
type InsufficientError struct {
	What      string // "stock" or "wallet"
	ID        string // product id or username
	Available string
}

func (e *InsufficientError) Error() string {
	return fmt.Sprintf("insufficient %s for %s: %s available", e.What, e.ID, e.Available)
}

func (e *InsufficientError) Is(target error) bool { return target == ErrInsufficient }

// Product is a unicorn for sale.
type Product struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Image       string          `json:"image"`
	Price       decimal.Decimal `json:"price"`
	Stock       int64           `json:"stock"`
	Version     int64           `json:"version"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// ProductChange is the payload of a TopicProducts message.
type ProductChange struct {
	Change  string  `json:"change"` // created, updated, deleted, stock
	Product Product `json:"product"`
}

// Catalog stores products. Every change is also published on TopicProducts
// where the storage allows it in the same transaction (SQLite's outbox; on
// DynamoDB, the table's stream).
type Catalog interface {
	// Get returns a product, or ErrNotFound.
	Get(ctx context.Context, id string) (Product, error)
	// List returns every product, by id.
	List(ctx context.Context) ([]Product, error)
	// Save stores p. p.Version must be the stored version + 1 (1 for a new
	// product), else ErrConflict. Stock is only written when the product
	// is created: afterwards it moves through Stock.
	Save(ctx context.Context, p Product) error
	// Delete removes a product at the given version (ErrConflict, ErrNotFound).
	Delete(ctx context.Context, id string, version int64) error
}

// StockLine is a quantity of one product.
type StockLine struct {
	ProductID string `json:"product_id"`
	Quantity  int64  `json:"quantity"`
}

// Reservation statuses.
const (
	ReservationReserved  = "reserved"
	ReservationCommitted = "committed"
	ReservationReleased  = "released"
)

// Reservation is the stock an order holds until it completes or fails.
type Reservation struct {
	OrderID   string      `json:"order_id"`
	Lines     []StockLine `json:"lines"`
	Status    string      `json:"status"`
	ExpiresAt time.Time   `json:"expires_at"`
}

// Stock moves product stock, by reservations keyed by order.
type Stock interface {
	// Reserve takes every line from stock at once, or nothing (an
	// *InsufficientError naming the product). A second call for the same
	// order returns the reservation as it stands and takes nothing.
	Reserve(ctx context.Context, orderID string, lines []StockLine, expiresAt time.Time) (Reservation, error)
	// Commit makes a reservation final. Committing again is a no-op; a
	// released reservation cannot be committed (ErrConflict); an unknown
	// one is ErrNotFound.
	Commit(ctx context.Context, orderID string) (Reservation, error)
	// Release gives a reservation's stock back, once. A committed
	// reservation cannot be released (ErrConflict). Releasing an order
	// that reserved nothing records that, so that a late Reserve for it
	// takes nothing.
	Release(ctx context.Context, orderID string) (Reservation, error)
	// Expired lists orders whose reservation is still held past its expiry.
	Expired(ctx context.Context, now time.Time, limit int) ([]string, error)
	// Adjust adds delta (negative to remove) to a product's stock; the
	// stock cannot go below zero (*InsufficientError).
	Adjust(ctx context.Context, productID string, delta int64) (int64, error)
}

// Wallet is a customer's money.
type Wallet struct {
	Username  string          `json:"username"`
	Balance   decimal.Decimal `json:"balance"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// Wallets stores wallets and the charges made to them, keyed by order.
type Wallets interface {
	// Get returns a wallet, or ErrNotFound.
	Get(ctx context.Context, username string) (Wallet, error)
	// Deposit adds money, once per key; it creates the wallet.
	Deposit(ctx context.Context, username string, amount decimal.Decimal, key string, at time.Time) (Wallet, error)
	// Charge takes amount for an order, once: a repeat changes nothing.
	// Not enough money is an *InsufficientError; a charge for an order
	// already refunded is ErrConflict.
	Charge(ctx context.Context, username, orderID string, amount decimal.Decimal, at time.Time) (Wallet, error)
	// Refund gives an order's charge back, once. For an order that was
	// never charged it records the refund, so that no later charge can
	// happen.
	Refund(ctx context.Context, orderID string, at time.Time) error
}

// Order statuses.
const (
	OrderPending        = "pending"
	OrderCompleted      = "completed"
	OrderFailed         = "failed"
	OrderNeedsAttention = "needs_attention"
)

// OrderLine is one product of an order at the price it was bought.
type OrderLine struct {
	ProductID string          `json:"product_id"`
	Name      string          `json:"name"`
	Quantity  int64           `json:"quantity"`
	UnitPrice decimal.Decimal `json:"unit_price"`
	Amount    decimal.Decimal `json:"amount"`
}

// Order is a purchase and where its saga left it.
type Order struct {
	ID             string          `json:"id"`
	UserID         string          `json:"user_id"`
	Client         string          `json:"client"`
	Lines          []OrderLine     `json:"lines"`
	Total          decimal.Decimal `json:"total"`
	PointsRedeemed int64           `json:"points_redeemed"`
	PointsValue    decimal.Decimal `json:"points_value"`
	Charged        decimal.Decimal `json:"charged"`
	PointsAwarded  int64           `json:"points_awarded"`
	Award          json.RawMessage `json:"award,omitempty"` // the campaign breakdown
	Status         string          `json:"status"`
	FailureCode    string          `json:"failure_code,omitempty"`
	FailureReason  string          `json:"failure_reason,omitempty"`
	Attempt        int             `json:"attempt"`               // saga runs: 1, then +1 per admin retry
	Fingerprint    string          `json:"fingerprint,omitempty"` // of the request that created it
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
	Version        int64           `json:"version"`
}

// Orders stores orders.
type Orders interface {
	// Create stores a new order (Version 1). If the id exists it returns
	// the stored order with created false and writes nothing.
	Create(ctx context.Context, o Order) (stored Order, created bool, err error)
	// Get returns an order, or ErrNotFound.
	Get(ctx context.Context, id string) (Order, error)
	// Update reads the order, calls fn, and stores the result at the next
	// version, retrying fn on a concurrent change. fn must only compute.
	Update(ctx context.Context, id string, fn func(*Order) error) (Order, error)
	// ByUser pages through a user's orders, newest first; cursor "" starts.
	ByUser(ctx context.Context, userID, cursor string, limit int) (orders []Order, next string, err error)
	// WithStatus lists orders in a status, oldest first (for operators).
	WithStatus(ctx context.Context, status string, limit int) ([]Order, error)
}

// Publisher publishes integration events (SQLite: the outbox; AWS:
// EventBridge). Publishing a message with a Key already published is a
// no-op, so a retried step publishes once.
type Publisher interface {
	Publish(ctx context.Context, m Message) error
}

// PurchaseCompleted is the payload of a TopicPurchases message.
type PurchaseCompleted struct {
	OrderID        string          `json:"order_id"`
	UserID         string          `json:"user_id"`
	Client         string          `json:"client"`
	Lines          []OrderLine     `json:"lines"`
	Total          decimal.Decimal `json:"total"`
	Charged        decimal.Decimal `json:"charged"`
	PointsRedeemed int64           `json:"points_redeemed"`
	PointsAwarded  int64           `json:"points_awarded"`
	// Campaigns are the points each campaign gave the order, in the order
	// of its award breakdown. Messages published before they were added
	// have none.
	Campaigns []CampaignPoints `json:"campaigns,omitempty"`
	At        time.Time        `json:"at"`
}

// CampaignPoints is what one campaign gave an order: the sum of its lines
// of the award breakdown (0 when it matched but gave nothing, capped by its
// budget for instance).
type CampaignPoints struct {
	Campaign string `json:"campaign_name"`
	Points   int64  `json:"points"`
}

// SagaStep is one step of a purchase saga as the order page shows it.
type SagaStep struct {
	Step   string    `json:"step"`
	Status string    `json:"status"` // started, succeeded, failed, retrying, caught
	At     time.Time `json:"at"`
	Error  string    `json:"error,omitempty"`
	Cause  string    `json:"cause,omitempty"`
}

// Sagas starts and follows saga executions (the local executor; Step
// Functions in the cloud). Names are unique: a name already started is not
// started again.
type Sagas interface {
	Start(ctx context.Context, name string, input json.RawMessage) error
	// Wait returns when the execution has ended or ctx is done; ended
	// reports which.
	Wait(ctx context.Context, name string) (ended bool, err error)
	// Steps returns the steps an execution went through, in order.
	Steps(ctx context.Context, name string) ([]SagaStep, error)
}

// ProductSearch is the search read model of the catalog.
type ProductSearch interface {
	// Index adds or replaces a product (ignoring a version older than the
	// indexed one).
	Index(ctx context.Context, p Product) error
	// Remove deletes a product from the index.
	Remove(ctx context.Context, id string, version int64) error
	// Search returns the ids of matching products, best first.
	Search(ctx context.Context, query string, limit int) ([]string, error)
}

// Tally is a product's sales.
type Tally struct {
	ProductID string          `json:"product_id"`
	Name      string          `json:"name"`
	Orders    int64           `json:"orders"`
	Units     int64           `json:"units"`
	Revenue   decimal.Decimal `json:"revenue"`
}

// CampaignDay is what a campaign gave on one day (UTC) of completed
// orders.
type CampaignDay struct {
	Day      string `json:"day"` // 2026-11-21: the UTC day of PurchaseCompleted.At
	Campaign string `json:"campaign_name"`
	Points   int64  `json:"points"`
	Orders   int64  `json:"orders"` // orders the campaign had a line in
}

// SalesTallies is the sales read model, built from PurchaseCompleted.
type SalesTallies interface {
	// Record adds a completed order's lines and campaign points, once per
	// order.
	Record(ctx context.Context, p PurchaseCompleted) error
	// List returns the tallies, best sellers first.
	List(ctx context.Context) ([]Tally, error)
	// Awards returns what client's campaigns gave per day, from the UTC
	// day of since on, by day then campaign name.
	Awards(ctx context.Context, client string, since time.Time) ([]CampaignDay, error)
}
