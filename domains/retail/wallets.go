package retail

import (
	"context"
	"errors"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/limits"
	"github.com/unicornstore/unicorn/ports"
)

// Wallets holds the customers' money.
type Wallets struct {
	wallets ports.Wallets
	users   ports.People
	clock   ports.Clock
	client  string // the store's
}

// NewWallets returns the wallet service of the store's client: its
// customers (users) are who may hold money.
func NewWallets(w ports.Wallets, users ports.People, clock ports.Clock, client string) (*Wallets, error) {
	if w == nil || users == nil || clock == nil || client == "" {
		return nil, errors.New("retail wallets: wallets, users, a clock and the store's client are required")
	}
	return &Wallets{wallets: w, users: users, clock: clock, client: client}, nil
}

var maxDeposit = decimal.NewFromInt(limits.MaxMoney)

// Balance returns a wallet; a user who never had money has a zero balance.
func (w *Wallets) Balance(ctx context.Context, username string) (ports.Wallet, error) {
	if !limits.ID.MatchString(username) {
		return ports.Wallet{}, invalid("username", "a username is %s", limits.IDRule)
	}
	wallet, err := w.wallets.Get(ctx, username)
	if errors.Is(err, ports.ErrNotFound) {
		return ports.Wallet{Username: username, Balance: decimal.Zero}, nil
	}
	return wallet, err
}

// Deposit adds money to a customer's wallet, once per key and wallet: a
// repeat of the key with the same amount answers the wallet; the key used
// for another amount is ErrKeyReused and adds nothing. Only the store's customers have
// wallets: a deposit for anyone else (an unknown name, a name in another
// case, a member of staff) is ErrNotFound.
func (w *Wallets) Deposit(ctx context.Context, username string, amount decimal.Decimal, key string) (ports.Wallet, error) {
	switch {
	case !limits.ID.MatchString(username):
		return ports.Wallet{}, invalid("username", "a username is %s", limits.IDRule)
	case !amount.IsPositive() || amount.GreaterThan(maxDeposit) || !amount.Equal(amount.Round(limits.MoneyDecimals)):
		return ports.Wallet{}, invalid("amount", "a deposit is more than 0 and at most 1,000,000,000, with at most 2 decimals")
	case key == "" || len(key) > limits.IdempotencyKeyChars:
		return ports.Wallet{}, invalid("Idempotency-Key", "an idempotency key has 1 to %d characters", limits.IdempotencyKeyChars)
	}
	if err := w.customer(ctx, username); err != nil {
		return ports.Wallet{}, err
	}
	// Keys are the store's, and a wallet's: the same key for two wallets
	// is two deposits.
	d := ports.Deposit{Key: w.client + "/" + username + "/" + key, Username: username, Amount: amount, At: w.clock.Now().UTC()}
	for range maxRaces {
		done, err := w.wallets.Deposit(ctx, d.Key)
		switch {
		case err == nil && (done.Username != username || !done.Amount.Equal(amount)):
			return ports.Wallet{}, fmt.Errorf("deposit to %s: %w", username, ErrKeyReused)
		case err == nil:
			return w.Balance(ctx, username) // deposited already
		case !errors.Is(err, ports.ErrNotFound):
			return ports.Wallet{}, err
		}
		wallet, err := w.wallets.Apply(ctx, ports.WalletChange{Username: username, Delta: amount, At: d.At, Deposit: &d})
		if !errors.Is(err, ports.ErrDuplicate) {
			return wallet, err
		}
		// The same key landed meanwhile: compare with it.
	}
	return ports.Wallet{}, fmt.Errorf("deposit to %s: %w", username, ports.ErrConflict)
}

// customer checks that username is a customer of the store.
func (w *Wallets) customer(ctx context.Context, username string) error {
	u, err := w.users.Get(ctx, username)
	switch {
	case errors.Is(err, ports.ErrNotFound):
	case err != nil:
		return err
	case u.Username == username && u.Role == ports.RoleCustomer && u.Client == w.client:
		return nil
	}
	return fmt.Errorf("there is no customer %s: %w", username, ErrNotFound)
}
