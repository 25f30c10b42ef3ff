package points

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/unicornstore/unicorn/ports"
)

// Stable event names. They are stored with every event and must never change
// with a Go rename; a new payload shape gets a new version, not a new name.
const (
	EventIssued             = "points.issued"
	EventRedeemed           = "points.redeemed"
	EventExpired            = "points.expired"
	EventIssueReversed      = "points.issue_reversed"
	EventRedemptionReversed = "points.redemption_reversed"
	EventMatured            = "points.matured"
	EventTierChanged        = "points.tier_changed"
)

// payloadVersion is the version written for every payload today.
const payloadVersion = 1

// Allocation is a part of a change taken from, or given back to, one lot.
type Allocation struct {
	Lot       string `json:"lot"`
	ExpiresOn string `json:"expires_on"`
	Amount    int64  `json:"amount"`
}

// Issued: points were added to the lot of the day they were issued.
type Issued struct {
	Amount    int64  `json:"amount"`
	Lot       string `json:"lot"`
	ExpiresOn string `json:"expires_on"`
	// Reference and Details say why the points exist ("order:42" and the
	// campaign breakdown), so "why did I get 170 points?" has an answer.
	Reference string          `json:"reference,omitempty"`
	Details   json.RawMessage `json:"details,omitempty"`
	// MaturesOn, when set, makes the points pending: in the lot, not
	// spendable before that day (a purchase's return window), when a
	// Matured event makes them so.
	MaturesOn string `json:"matures_on,omitempty"`
}

// Matured: a lot's pending points became spendable.
type Matured struct {
	Lot       string `json:"lot"`
	ExpiresOn string `json:"expires_on"`
	Amount    int64  `json:"amount"`
}

// TierChanged: the member moved from one tier to another, and why: the
// points earned in the window the client's tiers are decided on.
type TierChanged struct {
	From       string `json:"from,omitempty"` // "" for no tier
	To         string `json:"to,omitempty"`
	Earned     int64  `json:"earned"`
	WindowDays int    `json:"window_days"`
	Reason     string `json:"reason"`
}

// Redeemed: points were spent, taken from the oldest active lots first.
type Redeemed struct {
	Amount      int64        `json:"amount"`
	Allocations []Allocation `json:"allocations"`
	Reference   string       `json:"reference,omitempty"`
}

// Expired: the points left in a lot past its expiry were removed.
type Expired struct {
	Lot       string `json:"lot"`
	ExpiresOn string `json:"expires_on"`
	Amount    int64  `json:"amount"`
}

// IssueReversed: an issue was taken back. Amount is what could be recovered:
// first from the issue's own lot, then from the oldest other active lots;
// Unrecovered is what the account no longer had (it is never overdrawn).
type IssueReversed struct {
	IssueID     string       `json:"issue_id"`
	Amount      int64        `json:"amount"`
	Allocations []Allocation `json:"allocations"`
	Unrecovered int64        `json:"unrecovered,omitempty"`
	// Pending is the part of Amount cancelled from the issue's lot's
	// pending points (a return within the window), before any allocation.
	Pending int64 `json:"pending,omitempty"`
	// Lot is the issue's lot: where Pending was taken from, and the day
	// whose earned points the reversal takes back (events written before
	// it was kept have none: their own day stands in).
	Lot string `json:"lot,omitempty"`
}

// RedemptionReversed: a redemption was undone; its allocations went back to
// exactly the lots they came from, with those lots' original expiry.
type RedemptionReversed struct {
	RedemptionID string       `json:"redemption_id"`
	Amount       int64        `json:"amount"`
	Allocations  []Allocation `json:"allocations"`
}

// change is a decoded event payload: it knows its stable name and how it
// moves points between lots. The same code moves the lots of the command
// side (Account) and of the read model, so they cannot disagree.
type change interface {
	eventType() string
	applyTo(b *lotBook, at time.Time) error
}

func (Issued) eventType() string             { return EventIssued }
func (Redeemed) eventType() string           { return EventRedeemed }
func (Expired) eventType() string            { return EventExpired }
func (IssueReversed) eventType() string      { return EventIssueReversed }
func (RedemptionReversed) eventType() string { return EventRedemptionReversed }
func (Matured) eventType() string            { return EventMatured }
func (TierChanged) eventType() string        { return EventTierChanged }

// A tier change moves no points.
func (TierChanged) applyTo(*lotBook, time.Time) error { return nil }

func (e Issued) applyTo(b *lotBook, at time.Time) error {
	if e.MaturesOn != "" {
		b.issuePending(e.Lot, e.ExpiresOn, e.MaturesOn, e.Amount, at)
		return nil
	}
	b.issue(e.Lot, e.ExpiresOn, e.Amount, at)
	return nil
}

func (e Matured) applyTo(b *lotBook, at time.Time) error {
	return b.mature(e.Lot, e.Amount, at)
}

func (e Redeemed) applyTo(b *lotBook, at time.Time) error {
	return b.takeAll(e.Allocations, at)
}

func (e Expired) applyTo(b *lotBook, at time.Time) error {
	return b.expire(e.Lot, e.Amount, at)
}

func (e IssueReversed) applyTo(b *lotBook, at time.Time) error {
	if e.Pending > 0 {
		if err := b.cancelPending(e.Lot, e.Pending, at); err != nil {
			return err
		}
	}
	return b.takeAll(e.Allocations, at)
}

func (e RedemptionReversed) applyTo(b *lotBook, at time.Time) error {
	for _, a := range e.Allocations {
		b.restore(a.Lot, a.ExpiresOn, a.Amount, at)
	}
	return nil
}

// decode reads a stored event's payload.
func decode(ev ports.Event) (change, error) {
	if ev.Version != payloadVersion {
		return nil, fmt.Errorf("event %s seq %d: %s version %d is not known", ev.Account, ev.Seq, ev.Type, ev.Version)
	}
	var c change
	var err error
	switch ev.Type {
	case EventIssued:
		c, err = unmarshal[Issued](ev.Data)
	case EventRedeemed:
		c, err = unmarshal[Redeemed](ev.Data)
	case EventExpired:
		c, err = unmarshal[Expired](ev.Data)
	case EventIssueReversed:
		c, err = unmarshal[IssueReversed](ev.Data)
	case EventRedemptionReversed:
		c, err = unmarshal[RedemptionReversed](ev.Data)
	case EventMatured:
		c, err = unmarshal[Matured](ev.Data)
	case EventTierChanged:
		c, err = unmarshal[TierChanged](ev.Data)
	default:
		return nil, fmt.Errorf("event %s seq %d: unknown type %q", ev.Account, ev.Seq, ev.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("event %s seq %d: decode %s: %w", ev.Account, ev.Seq, ev.Type, err)
	}
	return c, nil
}

func unmarshal[T change](data []byte) (change, error) {
	var v T
	err := json.Unmarshal(data, &v)
	return v, err
}
