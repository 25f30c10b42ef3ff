package dynamodb

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/ports"
)

// Wallets stores wallets on DynamoDB (ports.Wallets). A balance is a
// DynamoDB number, which is an exact decimal: a debit subtracts in the
// update itself, on condition that the balance covers it. Each deposit and
// each order's payment is an item written in the same transaction as the
// balance, conditioned on its absence or version, which makes them happen
// once.
type Wallets struct {
	client *ddb.Client
	table  string
}

// Wallets returns the store's wallets.
func (s *Store) Wallets() *Wallets { return &Wallets{client: s.client, table: s.tables.Retail} }

var _ ports.Wallets = (*Wallets)(nil)

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

func paymentKey(orderID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str("C#" + orderID)}
}

func (s *Wallets) Payment(ctx context.Context, orderID string) (ports.Payment, error) {
	p := ports.Payment{OrderID: orderID}
	m, err := getItem(ctx, s.client, s.table, "C#"+orderID)
	if err != nil {
		return p, fmt.Errorf("payment of %s: %w", orderID, err)
	}
	if m == nil {
		return p, fmt.Errorf("payment of %s: %w", orderID, ports.ErrNotFound)
	}
	it := item{m: m}
	// Items written before versions were kept count as version 1.
	p.Username, p.Amount, p.Status, p.Version, p.At = it.str("username"), it.decimal("amount"), it.str("status"), it.numOr("version", 1), it.time("at")
	if it.err != nil {
		return p, fmt.Errorf("payment of %s: %w", orderID, it.err)
	}
	return p, nil
}

func (s *Wallets) Deposit(ctx context.Context, key string) (ports.Deposit, error) {
	d := ports.Deposit{Key: key}
	m, err := getItem(ctx, s.client, s.table, "D#"+key)
	if err != nil {
		return d, fmt.Errorf("deposit %q: %w", key, err)
	}
	if m == nil {
		return d, fmt.Errorf("deposit %q: %w", key, ports.ErrNotFound)
	}
	it := item{m: m}
	d.Username, d.Amount, d.At = it.str("username"), it.decimal("amount"), it.time("at")
	if it.err != nil {
		return d, fmt.Errorf("deposit %q: %w", key, it.err)
	}
	return d, nil
}

// Apply is one transaction: the payment or deposit item, conditioned on
// its version or absence, and the balance update, conditioned on the
// balance covering a debit. A balance is a DynamoDB number, an exact
// decimal, so the update computes it in place.
func (s *Wallets) Apply(ctx context.Context, c ports.WalletChange) (ports.Wallet, error) {
	w, err := s.apply(ctx, c)
	if err != nil {
		return w, fmt.Errorf("wallet change of %s: %w", c.Username, err)
	}
	return w, nil
}

func (s *Wallets) apply(ctx context.Context, c ports.WalletChange) (ports.Wallet, error) {
	var writes []types.TransactWriteItem
	if p := c.Payment; p != nil {
		m := paymentKey(p.OrderID)
		m["username"], m["amount"], m["status"], m["version"], m["at"] = str(p.Username), dec(p.Amount), str(p.Status), num(p.Version), str(formatTime(p.At))
		put := &types.Put{TableName: aws.String(s.table), Item: m, ConditionExpression: aws.String("attribute_not_exists(pk)")}
		if p.Version > 1 {
			put.ConditionExpression, put.ExpressionAttributeValues = versionIs(p.Version - 1)
		}
		writes = append(writes, types.TransactWriteItem{Put: put})
	}
	if d := c.Deposit; d != nil {
		m := map[string]types.AttributeValue{"pk": str("D#" + d.Key), "username": str(d.Username), "amount": dec(d.Amount), "at": str(formatTime(d.At))}
		writes = append(writes, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: m,
			ConditionExpression: aws.String("attribute_not_exists(pk)")}})
	}
	debit := c.Delta.IsNegative()
	if c.Username != "" {
		u := &types.Update{TableName: aws.String(s.table), Key: walletKey(c.Username),
			UpdateExpression:          aws.String("SET balance = if_not_exists(balance, :zero) + :delta, #at = :at"),
			ExpressionAttributeNames:  map[string]string{"#at": "at"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":zero": num(0), ":delta": dec(c.Delta), ":at": str(formatTime(c.At))}}
		if debit {
			u.ConditionExpression = aws.String("balance >= :need")
			u.ExpressionAttributeValues[":need"] = dec(c.Delta.Neg())
		}
		writes = append(writes, types.TransactWriteItem{Update: u})
	}
	if len(writes) == 0 {
		return ports.Wallet{Username: c.Username, Balance: decimal.Zero}, nil
	}
	_, err := s.client.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: writes})
	if lostRace(err) {
		return ports.Wallet{}, s.whyCancelled(ctx, c)
	}
	if err != nil {
		return ports.Wallet{}, err
	}
	if c.Username == "" {
		return ports.Wallet{Username: c.Username, Balance: decimal.Zero}, nil
	}
	return s.get(ctx, c.Username)
}

// whyCancelled reads what a cancelled change depended on to say which
// condition failed: a deposit key recorded already, a payment that moved,
// or too little money. A transaction that lost to a concurrent one is
// ErrConflict: the domain reads again and decides.
func (s *Wallets) whyCancelled(ctx context.Context, c ports.WalletChange) error {
	if d := c.Deposit; d != nil {
		if _, err := s.Deposit(ctx, d.Key); err == nil {
			return fmt.Errorf("deposit %q: %w", d.Key, ports.ErrDuplicate)
		} else if !errors.Is(err, ports.ErrNotFound) {
			return err
		}
	}
	if p := c.Payment; p != nil {
		cur, err := s.Payment(ctx, p.OrderID)
		switch {
		case err == nil && cur.Version != p.Version-1, errors.Is(err, ports.ErrNotFound) && p.Version > 1:
			return fmt.Errorf("payment of %s moved from version %d: %w", p.OrderID, p.Version-1, ports.ErrConflict)
		case err != nil && !errors.Is(err, ports.ErrNotFound):
			return err
		}
	}
	if c.Delta.IsNegative() {
		w, err := s.get(ctx, c.Username)
		switch {
		case errors.Is(err, ports.ErrNotFound):
			return &ports.InsufficientError{What: "wallet", ID: c.Username, Available: "0"}
		case err != nil:
			return err
		case w.Balance.Add(c.Delta).IsNegative():
			return &ports.InsufficientError{What: "wallet", ID: c.Username, Available: w.Balance.String()}
		}
	}
	return fmt.Errorf("lost to a concurrent change: %w", ports.ErrConflict)
}
