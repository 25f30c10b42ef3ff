package ports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// Outbox topics of the store.
const (
	// TopicProducts carries a ProductChange for every product created,
	// updated or deleted, and every change of stock.
	TopicProducts = "retail.products"
	// TopicPurchases carries a PurchaseCompleted for every completed order.
	TopicPurchases = "retail.purchases"
	// TopicReturns carries an OrderReturned for every completed return.
	TopicReturns = "retail.returns"
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

// Reservation is the stock an order holds, as stored. Which status may
// follow which is the retail domain's rule; storage only keeps versions.
type Reservation struct {
	OrderID   string
	Lines     []StockLine
	Status    string // reserved, committed, released
	ExpiresAt time.Time
	Version   int64 // 1 when created, +1 for every change
}

// StockMove is a change of a product's stock that the domain decided: the
// storage adds Delta on condition that the product exists and its stock
// stays at or above zero, or writes nothing.
type StockMove struct {
	ProductID string
	Delta     int64
	// SkipMissing drops the move when the product no longer exists
	// (stock given back to a deleted product goes with it) instead of
	// failing with ErrNotFound.
	SkipMissing bool
}

// StockAdjustment is an admin's change of a product's stock, recorded once
// per key.
type StockAdjustment struct {
	Key       string // scoped by the domain
	ProductID string
	Delta     int64
	Stock     int64 // the product's stock after it; the storage fills it in
	At        time.Time
}

// Stock moves product stock, by reservations keyed by order.
type Stock interface {
	// Reservation returns an order's reservation, or ErrNotFound.
	Reservation(ctx context.Context, orderID string) (Reservation, error)
	// SaveReservation stores r, new when r.Version is 1 (ErrConflict if
	// the order has one) or replacing version r.Version-1 (ErrConflict if
	// it moved), and applies moves in the same transaction: a product that
	// is missing (ErrNotFound, unless the move skips it) or would go below
	// zero (an *InsufficientError naming it) fails the whole write.
	SaveReservation(ctx context.Context, r Reservation, moves []StockMove) error
	// Expired lists orders whose reservation is still reserved past its
	// expiry, those expired longest first.
	Expired(ctx context.Context, now time.Time, limit int) ([]string, error)
	// Adjust adds a.Delta to the product's stock (ErrNotFound; an
	// *InsufficientError below zero) and records a under its key, in one
	// transaction, returning it with the stock after. A key recorded
	// already is ErrDuplicate with the recorded adjustment, and nothing
	// moves.
	Adjust(ctx context.Context, a StockAdjustment) (StockAdjustment, error)
}

// Payment statuses.
const (
	PaymentCharged  = "charged"
	PaymentRefunded = "refunded"
)

// Wallet is a customer's money.
type Wallet struct {
	Username  string
	Balance   decimal.Decimal
	UpdatedAt time.Time
}

// Payment is what happened to the money of an order: charged, or refunded
// (a refund of an order never charged is recorded too, with no amount, so
// that no charge can follow it). Which may follow which is the domain's
// rule.
type Payment struct {
	OrderID  string
	Username string
	Amount   decimal.Decimal
	Status   string // charged, refunded
	Version  int64  // 1 when created, +1 for every change
	At       time.Time
}

// Deposit is money added to a wallet, recorded once per key.
type Deposit struct {
	Key      string // scoped by the domain
	Username string
	Amount   decimal.Decimal
	At       time.Time
}

// WalletChange is one atomic write the domain decided: a balance delta
// and the payment or deposit that explains it.
type WalletChange struct {
	// Username's balance moves by Delta on condition that it stays at or
	// above zero (an *InsufficientError with what there was); a wallet
	// that does not exist has a balance of zero, and a positive delta
	// creates it. No Username (and a zero Delta) moves no money.
	Username string
	Delta    decimal.Decimal
	At       time.Time
	// Payment, when set, is stored at its Version: 1 creates it
	// (ErrConflict if the order has one), more replaces Version-1
	// (ErrConflict if it moved).
	Payment *Payment
	// Deposit, when set, is recorded under its key: a key recorded already
	// is ErrDuplicate, and nothing is written.
	Deposit *Deposit
}

// Wallets stores wallets, and the payments and deposits that move them.
type Wallets interface {
	// Get returns a wallet, or ErrNotFound.
	Get(ctx context.Context, username string) (Wallet, error)
	// Payment returns an order's payment, or ErrNotFound.
	Payment(ctx context.Context, orderID string) (Payment, error)
	// Deposit returns the deposit recorded under key, or ErrNotFound.
	Deposit(ctx context.Context, key string) (Deposit, error)
	// Apply writes c in one transaction (nothing when a condition fails)
	// and returns the wallet after it.
	Apply(ctx context.Context, c WalletChange) (Wallet, error)
}

// Order statuses.
const (
	OrderPending        = "pending"
	OrderCompleted      = "completed"
	OrderFailed         = "failed"
	OrderNeedsAttention = "needs_attention"
	// OrderReturning is no status of an order: it is how the storage lists
	// a completed order while one of its returns is under way (see
	// ListedStatus), so that a return stranded by a crash is found again.
	OrderReturning = "returning"
)

// Return statuses.
const (
	ReturnPending        = "pending"
	ReturnCompleted      = "completed"
	ReturnNeedsAttention = "needs_attention"
)

// ReturnLine is a quantity of one product of an order given back.
type ReturnLine struct {
	ProductID string `json:"product_id"`
	Quantity  int64  `json:"quantity"`
}

// OrderReturn is a return of some or all of an order's lines and where
// its saga left it. Which amounts it gives back is the retail domain's
// rule; storage keeps it inside its order.
type OrderReturn struct {
	ID    string       `json:"id"` // r1, r2, ...: its number in the order
	Lines []ReturnLine `json:"lines"`
	// Value is what the lines cost; Refund, PointsRestored and
	// PointsReversed are what the return was decided to give back (money,
	// redeemed points) and take back (awarded points).
	Value          decimal.Decimal `json:"value"`
	Refund         decimal.Decimal `json:"refund"`
	PointsRestored int64           `json:"points_restored"`
	PointsReversed int64           `json:"points_reversed"`
	// What happened, once completed: the awarded points the account no
	// longer had, the money kept from the refund for them, and the money
	// refunded.
	PointsUnrecovered int64           `json:"points_unrecovered,omitempty"`
	KeptFromRefund    decimal.Decimal `json:"kept_from_refund"`
	Refunded          decimal.Decimal `json:"refunded"`
	Reason            string          `json:"reason,omitempty"`
	By                string          `json:"by"` // who asked: the customer, or an admin
	Status            string          `json:"status"`
	FailureCode       string          `json:"failure_code,omitempty"`
	FailureReason     string          `json:"failure_reason,omitempty"`
	Attempt           int             `json:"attempt"`
	Key               string          `json:"key,omitempty"` // a digest of its idempotency key
	Fingerprint       string          `json:"fingerprint,omitempty"`
	CreatedAt         time.Time       `json:"created_at"`
	UpdatedAt         time.Time       `json:"updated_at"`
}

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
	// Tier and TierMultiplier are the buyer's tier when the award was
	// evaluated (none and 1 without tiers; orders from before tiers have
	// neither).
	Tier           string          `json:"tier,omitempty"`
	TierMultiplier decimal.Decimal `json:"tier_multiplier,omitzero"`
	Status         string          `json:"status"`
	FailureCode    string          `json:"failure_code,omitempty"`
	FailureReason  string          `json:"failure_reason,omitempty"`
	Attempt        int             `json:"attempt"`               // saga runs: 1, then +1 per admin retry
	Fingerprint    string          `json:"fingerprint,omitempty"` // of the request that created it
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
	CompletedAt    time.Time       `json:"completed_at,omitzero"` // orders completed before it was kept have none
	Returns        []OrderReturn   `json:"returns,omitempty"`
	Version        int64           `json:"version"`
}

// ListedStatus is the status an order is listed under (WithStatus): its
// own, except that a completed order with a return that needs attention
// is listed as needing attention, and one with a return under way as
// OrderReturning.
func (o Order) ListedStatus() string {
	if o.Status != OrderCompleted {
		return o.Status
	}
	listed := o.Status
	for _, r := range o.Returns {
		switch r.Status {
		case ReturnNeedsAttention:
			return OrderNeedsAttention
		case ReturnPending:
			listed = OrderReturning
		}
	}
	return listed
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
	// Recent pages through every order, newest first (by CreatedAt, then
	// id, descending): the back office's list. cursor "" starts; next is
	// "" at the end. A page may be shorter than limit before the end.
	Recent(ctx context.Context, cursor string, limit int) (orders []Order, next string, err error)
	// WithStatus lists the orders listed under an open status (pending,
	// needs_attention, returning: see ListedStatus), oldest first, for
	// operators. A store may index only open orders: another status may be
	// refused with ErrInvalid.
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
	// Tier and TierMultiplier are the buyer's tier its campaigns read
	// (messages published before tiers have neither).
	Tier           string          `json:"tier,omitempty"`
	TierMultiplier decimal.Decimal `json:"tier_multiplier,omitzero"`
	At             time.Time       `json:"at"`
}

// CampaignPoints is what one campaign gave an order: the sum of its lines
// of the award breakdown (0 when it matched but gave nothing, capped by its
// budget for instance).
type CampaignPoints struct {
	Campaign string `json:"campaign_name"`
	Points   int64  `json:"points"`
}

// OrderReturned is the payload of a TopicReturns message.
type OrderReturned struct {
	OrderID           string          `json:"order_id"`
	ReturnID          string          `json:"return_id"`
	UserID            string          `json:"user_id"`
	Client            string          `json:"client"`
	Lines             []ReturnLine    `json:"lines"`
	Value             decimal.Decimal `json:"value"`
	Refunded          decimal.Decimal `json:"refunded"`
	PointsRestored    int64           `json:"points_restored"`
	PointsReversed    int64           `json:"points_reversed"`
	PointsUnrecovered int64           `json:"points_unrecovered,omitempty"`
	// Whole: the order has nothing left to return (a cancellation, or its
	// last return).
	Whole bool      `json:"whole"`
	At    time.Time `json:"at"`
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
	// Start starts the run named name; a run of that name that is still
	// going is no error, one that has ended is ErrSagaEnded.
	Start(ctx context.Context, name string, input json.RawMessage) error
	// Wait returns when the execution has ended or ctx is done; ended
	// reports which.
	Wait(ctx context.Context, name string) (ended bool, err error)
	// Steps returns the steps an execution went through, in order.
	Steps(ctx context.Context, name string) ([]SagaStep, error)
}

// SagaSteps keeps the steps of saga runs that a workflow service runs
// (Step Functions): each task records its own, and the order page reads
// them here instead of calling the service per request.
type SagaSteps interface {
	// Record appends a step to a run's history.
	Record(ctx context.Context, saga string, step SagaStep) error
	// Steps returns a run's steps in the order recorded, or ErrNotFound.
	Steps(ctx context.Context, saga string) ([]SagaStep, error)
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

// PurchaseRetention is how long the sales read model keeps a completed
// purchase (Purchases) at least, after its At: older ones may be gone.
const PurchaseRetention = 100 * 24 * time.Hour

// SalesTallies is the sales read model, built from PurchaseCompleted.
type SalesTallies interface {
	// Record adds a completed order's lines and campaign points, and keeps
	// the purchase itself in its client's history, once per order.
	Record(ctx context.Context, p PurchaseCompleted) error
	// List returns the tallies, best sellers first.
	List(ctx context.Context) ([]Tally, error)
	// Awards returns what client's campaigns gave per day, from the UTC
	// day of since on, by day then campaign name.
	Awards(ctx context.Context, client string, since time.Time) ([]CampaignDay, error)
	// Purchases pages through client's completed purchases whose At is at
	// or after since, oldest first (by At, then order id): at most limit
	// (1 or more) of them, as recorded. Cursor "" starts; next is "" when
	// no purchase follows the page. A cursor that is not the next of a
	// page of the same client's purchases is ErrBadCursor.
	Purchases(ctx context.Context, client string, since time.Time, cursor string, limit int) (page []PurchaseCompleted, next string, err error)
}
