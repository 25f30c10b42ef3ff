package webhooks

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/domains/points"
	"github.com/unicornstore/unicorn/ports"
)

// EventType is the stable name of an event a webhook tells of. It is a
// public contract: it never changes with a Go rename.
type EventType struct{ name string }

// The event types an endpoint may subscribe to.
var (
	// PointsExpiring: a lot with points left expires in an endpoint's
	// ExpiringDays days or fewer (found by ScanExpiring, once per lot).
	PointsExpiring = EventType{"points.expiring"}
	// PointsExpired: the points left in a lot expired.
	PointsExpired = EventType{"points.expired"}
	// PointsMatured: a lot's pending points became spendable.
	PointsMatured = EventType{"points.matured"}
	// TierChanged: a member moved to another tier.
	TierChanged = EventType{"tier.changed"}
	// OrderCompleted: a purchase completed.
	OrderCompleted = EventType{"order.completed"}
	// OrderReturned: a return of (part of) an order completed.
	OrderReturned = EventType{"order.returned"}
)

// EventTypes lists every event type, in a fixed order.
func EventTypes() []EventType {
	return []EventType{PointsExpiring, PointsExpired, PointsMatured, TierChanged, OrderCompleted, OrderReturned}
}

// ParseEventType reads an event type's name.
func ParseEventType(name string) (EventType, error) {
	for _, t := range EventTypes() {
		if t.name == name {
			return t, nil
		}
	}
	return EventType{}, fmt.Errorf("unknown event type %q", name)
}

func (t EventType) String() string { return t.name }

// IsZero reports whether t is no event type.
func (t EventType) IsZero() bool { return t.name == "" }

// MarshalText writes the name.
func (t EventType) MarshalText() ([]byte, error) { return []byte(t.name), nil }

// event is one thing that happened, as every endpoint subscribed to it is
// told: the body of its deliveries.
type event struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	OccurredAt time.Time `json:"occurred_at"`
	Client     string    `json:"client"`
	Data       any       `json:"data"`
}

// eventID makes an event's id from what identifies it where it comes from,
// so that seeing it again gives the same id: "evt_" and 128 bits of a
// digest (the parts name no secret; the digest only makes them uniform).
func eventID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return "evt_" + hex.EncodeToString(sum[:16])
}

// Wire shapes of the events' data. They are a public contract, apart
// from the shapes the ledger and the store keep (which may change with
// their domains): renaming a field here is a breaking change for
// receivers.
type (
	lotData struct {
		Account   string `json:"account_id"`
		Lot       string `json:"lot"` // the day the lot's points were issued
		ExpiresOn string `json:"expires_on"`
		Points    int64  `json:"points"`
	}
	expiringData struct {
		lotData
		DaysLeft int `json:"days_left"`
	}
	tierData struct {
		Account    string `json:"account_id"`
		From       string `json:"from"` // "" for no tier
		To         string `json:"to"`
		Earned     int64  `json:"earned"`
		WindowDays int    `json:"window_days"`
		Reason     string `json:"reason"`
	}
	orderLine struct {
		ProductID string          `json:"product_id"`
		Name      string          `json:"name,omitempty"`
		Quantity  int64           `json:"quantity"`
		UnitPrice decimal.Decimal `json:"unit_price"`
		Amount    decimal.Decimal `json:"amount"`
	}
	orderCompletedData struct {
		OrderID        string          `json:"order_id"`
		UserID         string          `json:"user_id"`
		Lines          []orderLine     `json:"lines"`
		Total          decimal.Decimal `json:"total"`
		Charged        decimal.Decimal `json:"charged"`
		PointsRedeemed int64           `json:"points_redeemed"`
		PointsAwarded  int64           `json:"points_awarded"`
	}
	returnLine struct {
		ProductID string `json:"product_id"`
		Quantity  int64  `json:"quantity"`
	}
	orderReturnedData struct {
		OrderID           string          `json:"order_id"`
		ReturnID          string          `json:"return_id"`
		UserID            string          `json:"user_id"`
		Lines             []returnLine    `json:"lines"`
		Value             decimal.Decimal `json:"value"`
		Refunded          decimal.Decimal `json:"refunded"`
		PointsRestored    int64           `json:"points_restored"`
		PointsReversed    int64           `json:"points_reversed"`
		PointsUnrecovered int64           `json:"points_unrecovered"`
		Whole             bool            `json:"whole"`
	}
)

// The ledger's payloads, as the points domain stores them (version 1):
// decoded here from their JSON, not from its Go types.
type (
	ledgerLot struct {
		Lot       string `json:"lot"`
		ExpiresOn string `json:"expires_on"`
		Amount    int64  `json:"amount"`
	}
	ledgerTier struct {
		From       string `json:"from"`
		To         string `json:"to"`
		Earned     int64  `json:"earned"`
		WindowDays int    `json:"window_days"`
		Reason     string `json:"reason"`
	}
)

// splitAccount reads a ledger stream name, "client/account".
func splitAccount(stream string) (client, account string, ok bool) {
	client, account, ok = strings.Cut(stream, "/")
	return client, account, ok && client != "" && account != ""
}

// eventOf maps a message of the change stream to the event it tells of;
// ok is false for a message that tells of none (a points issue, a product
// change, ...).
func eventOf(m ports.Message) (ev event, typ EventType, ok bool, err error) {
	switch m.Topic {
	case ports.TopicPointsLedger:
		return ledgerEvent(m)
	case ports.TopicPurchases:
		var p ports.PurchaseCompleted
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			return ev, typ, false, fmt.Errorf("decode purchase message %s: %w", m.Key, err)
		}
		if p.Client == "" || p.OrderID == "" {
			return ev, typ, false, nil // from before orders named their client
		}
		lines := make([]orderLine, 0, len(p.Lines))
		for _, l := range p.Lines {
			lines = append(lines, orderLine{ProductID: l.ProductID, Name: l.Name, Quantity: l.Quantity, UnitPrice: l.UnitPrice, Amount: l.Amount})
		}
		return event{ID: eventID(OrderCompleted.name, p.Client, p.OrderID), Type: OrderCompleted.name, OccurredAt: p.At.UTC(), Client: p.Client,
			Data: orderCompletedData{OrderID: p.OrderID, UserID: p.UserID, Lines: lines, Total: p.Total, Charged: p.Charged,
				PointsRedeemed: p.PointsRedeemed, PointsAwarded: p.PointsAwarded}}, OrderCompleted, true, nil
	case ports.TopicReturns:
		var r ports.OrderReturned
		if err := json.Unmarshal(m.Payload, &r); err != nil {
			return ev, typ, false, fmt.Errorf("decode return message %s: %w", m.Key, err)
		}
		if r.Client == "" || r.OrderID == "" {
			return ev, typ, false, nil
		}
		lines := make([]returnLine, 0, len(r.Lines))
		for _, l := range r.Lines {
			lines = append(lines, returnLine{ProductID: l.ProductID, Quantity: l.Quantity})
		}
		return event{ID: eventID(OrderReturned.name, r.Client, r.OrderID, r.ReturnID), Type: OrderReturned.name, OccurredAt: r.At.UTC(), Client: r.Client,
			Data: orderReturnedData{OrderID: r.OrderID, ReturnID: r.ReturnID, UserID: r.UserID, Lines: lines, Value: r.Value, Refunded: r.Refunded,
				PointsRestored: r.PointsRestored, PointsReversed: r.PointsReversed, PointsUnrecovered: r.PointsUnrecovered, Whole: r.Whole}}, OrderReturned, true, nil
	}
	return ev, typ, false, nil
}

func ledgerEvent(m ports.Message) (ev event, typ EventType, ok bool, err error) {
	var e ports.Event
	if err := json.Unmarshal(m.Payload, &e); err != nil {
		return ev, typ, false, fmt.Errorf("decode ledger message %s: %w", m.Key, err)
	}
	switch e.Type {
	case points.EventMatured:
		typ = PointsMatured
	case points.EventExpired:
		typ = PointsExpired
	case points.EventTierChanged:
		typ = TierChanged
	default:
		return ev, typ, false, nil
	}
	client, account, ok := splitAccount(e.Account)
	if !ok {
		return ev, typ, false, fmt.Errorf("ledger event %s of %q: the account names no client", e.ID, e.Account)
	}
	ev = event{ID: eventID("ledger", e.Account, strconv.FormatInt(e.Seq, 10)), Type: typ.name, OccurredAt: e.RecordedAt.UTC(), Client: client}
	if typ == TierChanged {
		var t ledgerTier
		if err := json.Unmarshal(e.Data, &t); err != nil {
			return ev, typ, false, fmt.Errorf("decode %s event %s: %w", e.Type, e.ID, err)
		}
		ev.Data = tierData{Account: account, From: t.From, To: t.To, Earned: t.Earned, WindowDays: t.WindowDays, Reason: t.Reason}
		return ev, typ, true, nil
	}
	var l ledgerLot
	if err := json.Unmarshal(e.Data, &l); err != nil {
		return ev, typ, false, fmt.Errorf("decode %s event %s: %w", e.Type, e.ID, err)
	}
	ev.Data = lotData{Account: account, Lot: l.Lot, ExpiresOn: l.ExpiresOn, Points: l.Amount}
	return ev, typ, true, nil
}

// expiringEvent is the notice that a lot of an account expires soon: one
// per account and lot, whenever and however often it is found.
// today is the UTC midnight the days left are counted from.
func expiringEvent(client, account string, lot ports.Lot, today, now time.Time) event {
	expires, _ := time.Parse(time.DateOnly, lot.ExpiresOn)
	return event{ID: eventID(PointsExpiring.name, client+"/"+account, lot.IssuedOn), Type: PointsExpiring.name, OccurredAt: now.UTC(), Client: client,
		Data: expiringData{lotData: lotData{Account: account, Lot: lot.IssuedOn, ExpiresOn: lot.ExpiresOn, Points: lot.Remaining},
			DaysLeft: int(expires.Sub(today).Hours() / 24)}}
}
