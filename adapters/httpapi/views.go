package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/domains/retail"
	"github.com/unicornstore/unicorn/ports"
)

// The API's own shapes of what the domains return: a field renamed here
// never changes stored data or events, and what a caller sees can depend
// on who they are.

// amount is money as the API writes it: a JSON number with its exact
// digits (1700.5), never a float and never a string.
type amount decimal.Decimal

func (a amount) MarshalJSON() ([]byte, error) { return []byte(decimal.Decimal(a).String()), nil }

type productView struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Image       string    `json:"image"`
	Price       amount    `json:"price"`
	Stock       int64     `json:"stock"`
	Version     int64     `json:"version"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func viewProduct(p ports.Product) productView {
	return productView{ID: p.ID, Name: p.Name, Description: p.Description, Image: p.Image, Price: amount(p.Price), Stock: p.Stock,
		Version: p.Version, UpdatedAt: p.UpdatedAt}
}

type walletView struct {
	Username string `json:"username"`
	Balance  amount `json:"balance"`
}

type lineView struct {
	ProductID string `json:"product_id"`
	Name      string `json:"name"`
	Quantity  int64  `json:"quantity"`
	UnitPrice amount `json:"unit_price"`
	Amount    amount `json:"amount"`
	// Returned is how many of the line its returns took back.
	Returned int64 `json:"returned,omitempty"`
}

func viewLines(lines []ports.OrderLine) []lineView {
	out := make([]lineView, len(lines))
	for i, l := range lines {
		out[i] = lineView{ProductID: l.ProductID, Name: l.Name, Quantity: l.Quantity, UnitPrice: amount(l.UnitPrice), Amount: amount(l.Amount)}
	}
	return out
}

// orderView is an order as the API shows it. What the order asks for
// (points_requested, amount_due) is apart from what happened
// (points_redeemed, charged, points_awarded): a failed order spent and
// earned nothing, and says so.
type orderView struct {
	ID              string           `json:"id"`
	UserID          string           `json:"user_id"`
	Client          string           `json:"client"`
	Lines           []lineView       `json:"lines"`
	Total           amount           `json:"total"`
	PointsRequested int64            `json:"points_requested"`
	PointsValue     amount           `json:"points_value"`
	AmountDue       amount           `json:"amount_due"`
	PointsRedeemed  int64            `json:"points_redeemed"`
	Charged         amount           `json:"charged"`
	PointsAwarded   int64            `json:"points_awarded"`
	Award           []awardLine      `json:"award,omitempty"`
	Status          string           `json:"status"`
	FailureCode     string           `json:"failure_code,omitempty"`
	FailureReason   string           `json:"failure_reason,omitempty"`
	Attempt         int              `json:"attempt"`
	CreatedAt       time.Time        `json:"created_at"`
	UpdatedAt       time.Time        `json:"updated_at"`
	Version         int64            `json:"version"`
	Saga            []ports.SagaStep `json:"saga,omitempty"`
	CompletedAt     *time.Time       `json:"completed_at,omitempty"`
	// ReturnableUntil is when the customer's return window closes (an
	// admin may return later).
	ReturnableUntil *time.Time   `json:"returnable_until,omitempty"`
	Returns         []returnView `json:"returns,omitempty"`
}

// returnView is a return of an order's lines as the API shows it: what it
// was decided to give back, and once completed what it did.
type returnView struct {
	ID                string             `json:"id"`
	Status            string             `json:"status"`
	Lines             []ports.ReturnLine `json:"lines"`
	Value             amount             `json:"value"`
	Refund            amount             `json:"refund"`
	PointsRestored    int64              `json:"points_restored"`
	PointsReversed    int64              `json:"points_reversed"`
	Refunded          *amount            `json:"refunded,omitempty"`
	KeptFromRefund    *amount            `json:"kept_from_refund,omitempty"`
	PointsUnrecovered int64              `json:"points_unrecovered,omitempty"`
	Reason            string             `json:"reason,omitempty"`
	By                string             `json:"by"`
	FailureCode       string             `json:"failure_code,omitempty"`
	FailureReason     string             `json:"failure_reason,omitempty"`
	Attempt           int                `json:"attempt"`
	CreatedAt         time.Time          `json:"created_at"`
	UpdatedAt         time.Time          `json:"updated_at"`
	Saga              []ports.SagaStep   `json:"saga,omitempty"`
}

func viewReturns(o *retail.Order, steps map[string][]ports.SagaStep) []returnView {
	var out []returnView
	for _, r := range o.Returns() {
		refund, restored, reversed := r.Planned()
		code, reason := r.Failure()
		v := returnView{ID: r.ID(), Status: r.Status().String(), Lines: r.Lines(), Value: amount(r.Value()), Refund: amount(refund),
			PointsRestored: restored, PointsReversed: reversed, Reason: r.Reason(), By: r.By(), FailureCode: code, FailureReason: reason,
			Attempt: r.Attempt(), CreatedAt: r.CreatedAt(), UpdatedAt: r.UpdatedAt(), Saga: steps[r.ID()]}
		if r.Status() == retail.ReturnCompleted {
			refunded, kept, unrecovered := r.Outcome()
			a, k := amount(refunded), amount(kept)
			v.Refunded, v.KeptFromRefund, v.PointsUnrecovered = &a, &k, unrecovered
		}
		out = append(out, v)
	}
	return out
}

// awardLine is one campaign rule's part of an order's points. Staff see
// how it was computed; a customer sees the campaign's public description
// and the points, never a campaign's internal name or formula.
type awardLine struct {
	Campaign    string          `json:"campaign_name,omitempty"`
	Description string          `json:"description,omitempty"`
	Version     int64           `json:"campaign_version,omitempty"`
	Rule        *int            `json:"rule_index,omitempty"`
	Inputs      json.RawMessage `json:"inputs,omitempty"`
	Formula     string          `json:"formula,omitempty"`
	Raw         json.Number     `json:"raw,omitempty"`
	Points      int64           `json:"points"`
	Note        string          `json:"note,omitempty"`
}

// forCustomer keeps what a customer may read of a breakdown line.
func (l awardLine) forCustomer() awardLine {
	d := l.Description
	if d == "" {
		d = "Loyalty points for this purchase"
	}
	return awardLine{Description: d, Points: l.Points}
}

func viewOrder(r *http.Request, o *retail.Order, steps []ports.SagaStep, returnSteps map[string][]ports.SagaStep, window time.Duration) orderView {
	redeemed, charged := o.Paid()
	awarded, breakdown := o.Awarded()
	code, reason := o.Failure()
	v := orderView{ID: o.ID(), UserID: o.UserID(), Client: o.Client(), Lines: viewLines(o.Lines()), Total: amount(o.Total()),
		PointsRequested: o.PointsRequested(), PointsValue: amount(o.PointsValue()), AmountDue: amount(o.AmountDue()),
		PointsRedeemed: redeemed, Charged: amount(charged), PointsAwarded: awarded, Status: o.Status().String(),
		FailureCode: code, FailureReason: reason, Attempt: o.Attempt(), CreatedAt: o.CreatedAt(), UpdatedAt: o.UpdatedAt(),
		Version: o.Version(), Saga: steps, Returns: viewReturns(o, returnSteps)}
	if o.Status() == retail.Completed {
		done, until := o.CompletedAt(), o.ReturnableUntil(window)
		v.CompletedAt, v.ReturnableUntil = &done, &until
		returned := o.Returned()
		for i := range v.Lines {
			v.Lines[i].Returned = returned[v.Lines[i].ProductID]
		}
	}
	if len(breakdown) > 0 {
		// A breakdown that does not read is left out, not a failed answer:
		// the points stand either way.
		if err := json.Unmarshal(breakdown, &v.Award); err != nil {
			logFor(r).Warn("award breakdown unreadable", "order", o.ID(), "err", err)
			v.Award = nil
		}
	}
	if p, _ := principalOf(r); p.Kind == ports.PrincipalUser && p.Role == ports.RoleCustomer {
		for i, l := range v.Award {
			v.Award[i] = l.forCustomer()
		}
	}
	return v
}

type tallyView struct {
	ProductID string `json:"product_id"`
	Name      string `json:"name"`
	Orders    int64  `json:"orders"`
	Units     int64  `json:"units"`
	Revenue   amount `json:"revenue"`
}
