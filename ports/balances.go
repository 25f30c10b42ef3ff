package ports

import (
	"context"
	"time"
)

// Lot is the points issued to an account on one calendar day (UTC), as the
// read model holds it. Days are "2006-01-02" strings so they sort as text.
type Lot struct {
	IssuedOn  string `json:"issued_on"`
	ExpiresOn string `json:"expires_on"`
	Issued    int64  `json:"issued"`    // issued into the lot, net of issue reversals
	Remaining int64  `json:"remaining"` // still in the lot: spendable while the lot is active
	Expired   int64  `json:"expired"`   // taken out of the lot by expiry
	// Pending is issued into the lot but not spendable before MaturesOn
	// (points a purchase earned, during its return window); maturing moves
	// them to Remaining.
	Pending     int64     `json:"pending,omitempty"`
	MaturesOn   string    `json:"matures_on,omitempty"`
	LastUpdated time.Time `json:"last_updated"`
}

// BalanceView is the read model of one account: its lots and the last ledger
// event applied to them.
type BalanceView struct {
	Account string
	// Seq is the last ledger event applied. Seq and the lots change in one
	// write, so an event is applied exactly once.
	Seq  int64
	Lots []Lot // ordered by IssuedOn
	// NextDue is the earliest day something is due in the account: the
	// ExpiresOn of a lot with points remaining, or the MaturesOn of a lot
	// with points pending; "" when there is none. The sweeper looks
	// accounts up by it.
	NextDue string
	// Pending is the sum of the lots' pending points (Get and Summary
	// fill it; Update computes it from the lots).
	Pending   int64
	UpdatedAt time.Time
}

// Balances stores the points read model.
type Balances interface {
	// Get returns the account's view, or ErrNotFound when no event of the
	// account has been applied.
	Get(ctx context.Context, account string) (BalanceView, error)
	// Summary returns the account's view without its lots, and for each of
	// days the points left in the lots that expire after it: sums[i] is the
	// sum of Remaining over the lots whose ExpiresOn is after days[i]. It
	// reads no more than those sums need, so that a balance costs the same on
	// a long history. ErrNotFound as Get.
	Summary(ctx context.Context, account string, days ...string) (v BalanceView, sums []int64, err error)
	// Lots returns up to limit of the account's lots issued after the day
	// after ("" from the first), in issue order; when expiringAfter is set,
	// only the lots whose ExpiresOn is after it.
	Lots(ctx context.Context, account, after string, limit int, expiringAfter string) ([]Lot, error)
	// Update reads the account's view (a zero view with Account set when
	// there is none), calls fn, and when fn reports a change stores the view
	// atomically. fn must only compute: an adapter may call it again after a
	// concurrent update.
	Update(ctx context.Context, account string, fn func(*BalanceView) (changed bool, err error)) error
	// Due pages through the accounts whose NextDue is on or before
	// day. cursor "" starts; the returned cursor is "" at the end.
	Due(ctx context.Context, day string, cursor string, limit int) (accounts []string, next string, err error)
	// Reset deletes every view, before a rebuild from the ledger.
	Reset(ctx context.Context) error
}
