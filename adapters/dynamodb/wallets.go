package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/ports"
)

// Wallets stores wallets on DynamoDB (ports.Wallets). A balance is a
// DynamoDB number, which is an exact decimal: charges subtract it in the
// update itself, on condition that it covers the amount. Each deposit and
// each order's charge is an item written in the same transaction as the
// balance, which makes them happen once.
type Wallets struct {
	client *ddb.Client
	table  string
}

// Wallets returns the store's wallets.
func (s *Store) Wallets() *Wallets { return &Wallets{client: s.client, table: s.tables.Retail} }

var _ ports.Wallets = (*Wallets)(nil)

// Charge statuses.
const (
	charged  = "charged"
	refunded = "refunded"
)

func walletKey(username string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str("W#" + username)}
}

func (s *Wallets) get(ctx context.Context, username string) (ports.Wallet, error) {
	w := ports.Wallet{Username: username}
	m, err := getItem(ctx, s.client, s.table, "W#"+username)
	if err != nil {
		return w, err
	}
	if m == nil {
		return w, fmt.Errorf("wallet %s: %w", username, ports.ErrNotFound)
	}
	it := item{m: m}
	w.Balance, w.UpdatedAt = it.decimal("balance"), it.time("at")
	return w, it.err
}

func (s *Wallets) Get(ctx context.Context, username string) (ports.Wallet, error) {
	w, err := s.get(ctx, username)
	if err != nil {
		return w, fmt.Errorf("get wallet %s: %w", username, err)
	}
	return w, nil
}

// addTo is the update that adds amount to a wallet, creating it.
func (s *Wallets) addTo(username string, amount decimal.Decimal, at time.Time) *types.Update {
	return &types.Update{TableName: aws.String(s.table), Key: walletKey(username),
		UpdateExpression:          aws.String("SET balance = if_not_exists(balance, :zero) + :amount, #at = :at"),
		ExpressionAttributeNames:  map[string]string{"#at": "at"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":zero": num(0), ":amount": dec(amount), ":at": str(formatTime(at))}}
}

// once is the put of an item that records something done once (a deposit,
// a charge): it fails if the item exists.
func (s *Wallets) once(pk string, attrs map[string]types.AttributeValue) *types.Put {
	attrs["pk"] = str(pk)
	return &types.Put{TableName: aws.String(s.table), Item: attrs, ConditionExpression: aws.String("attribute_not_exists(pk)")}
}

func (s *Wallets) Deposit(ctx context.Context, username string, amount decimal.Decimal, key string, at time.Time) (ports.Wallet, error) {
	_, err := s.client.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: s.once("D#"+key, map[string]types.AttributeValue{"username": str(username), "amount": dec(amount), "at": str(formatTime(at))})},
		{Update: s.addTo(username, amount, at)},
	}})
	if err != nil && !lostRace(err) {
		return ports.Wallet{}, fmt.Errorf("deposit to %s: %w", username, err)
	}
	// Cancelled: deposited already (a transaction conflict also lands here,
	// and the caller's retry with the same key is then safe).
	w, err := s.get(ctx, username)
	if err != nil {
		return w, fmt.Errorf("deposit to %s: %w", username, err)
	}
	return w, nil
}

// charge reads an order's charge item: its status, or "" if none.
func (s *Wallets) charge(ctx context.Context, orderID string) (status, username string, amount decimal.Decimal, err error) {
	m, err := getItem(ctx, s.client, s.table, "C#"+orderID)
	if err != nil || m == nil {
		return "", "", decimal.Zero, err
	}
	it := item{m: m}
	status, username, amount = it.str("status"), it.str("username"), it.decimal("amount")
	return status, username, amount, it.err
}

func (s *Wallets) Charge(ctx context.Context, username, orderID string, amount decimal.Decimal, at time.Time) (ports.Wallet, error) {
	w, err := s.chargeOnce(ctx, username, orderID, amount, at)
	if err != nil {
		return w, fmt.Errorf("charge %s for %s: %w", username, orderID, err)
	}
	return w, nil
}

func (s *Wallets) chargeOnce(ctx context.Context, username, orderID string, amount decimal.Decimal, at time.Time) (ports.Wallet, error) {
	take := &types.Update{TableName: aws.String(s.table), Key: walletKey(username),
		UpdateExpression:          aws.String("SET balance = balance - :amount, #at = :at"),
		ConditionExpression:       aws.String("attribute_exists(pk) AND balance >= :amount"),
		ExpressionAttributeNames:  map[string]string{"#at": "at"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":amount": dec(amount), ":at": str(formatTime(at))}}
	for range raceAttempts {
		switch status, _, _, err := s.charge(ctx, orderID); {
		case err != nil:
			return ports.Wallet{}, err
		case status == refunded:
			return ports.Wallet{}, fmt.Errorf("order %s was refunded: %w", orderID, ports.ErrConflict)
		case status == charged:
			return s.get(ctx, username)
		}
		_, err := s.client.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: s.once("C#"+orderID, map[string]types.AttributeValue{"username": str(username), "amount": dec(amount),
				"status": str(charged), "at": str(formatTime(at))})},
			{Update: take},
		}})
		if !lostRace(err) {
			if err != nil {
				return ports.Wallet{}, err
			}
			return s.get(ctx, username)
		}
		// Cancelled: too little money, or the order was charged or
		// refunded meanwhile, or a concurrent write: read and decide.
		if status, _, _, err := s.charge(ctx, orderID); err != nil || status != "" {
			continue
		}
		w, err := s.get(ctx, username)
		switch {
		case errors.Is(err, ports.ErrNotFound):
			return w, &ports.InsufficientError{What: "wallet", ID: username, Available: "0"}
		case err != nil:
			return w, err
		case w.Balance.LessThan(amount):
			return w, &ports.InsufficientError{What: "wallet", ID: username, Available: w.Balance.String()}
		}
	}
	return ports.Wallet{}, fmt.Errorf("%d attempts lost to concurrent changes: %w", raceAttempts, ports.ErrConflict)
}

func (s *Wallets) Refund(ctx context.Context, orderID string, at time.Time) error {
	for range raceAttempts {
		status, username, amount, err := s.charge(ctx, orderID)
		if err != nil {
			return fmt.Errorf("refund %s: %w", orderID, err)
		}
		var writes []types.TransactWriteItem
		switch status {
		case refunded:
			return nil
		case "":
			// Never charged: remember the refund so that no charge follows.
			writes = append(writes, types.TransactWriteItem{Put: s.once("C#"+orderID, map[string]types.AttributeValue{
				"username": str(""), "amount": num(0), "status": str(refunded), "at": str(formatTime(at))})})
		default:
			writes = append(writes, types.TransactWriteItem{Update: &types.Update{TableName: aws.String(s.table),
				Key: map[string]types.AttributeValue{"pk": str("C#" + orderID)}, UpdateExpression: aws.String("SET #status = :refunded"),
				ConditionExpression: aws.String("#status = :charged"), ExpressionAttributeNames: map[string]string{"#status": "status"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":refunded": str(refunded), ":charged": str(charged)}}},
				types.TransactWriteItem{Update: s.addTo(username, amount, at)})
		}
		_, err = s.client.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: writes})
		if !lostRace(err) {
			if err != nil {
				return fmt.Errorf("refund %s: %w", orderID, err)
			}
			return nil
		}
	}
	return fmt.Errorf("refund %s: %d attempts lost to concurrent changes: %w", orderID, raceAttempts, ports.ErrConflict)
}
