package retail

import (
	"context"
	"errors"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/ports"
)

// Wallets holds the customers' money.
type Wallets struct {
	wallets ports.Wallets
	clock   ports.Clock
}

// NewWallets returns the wallet service.
func NewWallets(w ports.Wallets, clock ports.Clock) *Wallets {
	return &Wallets{wallets: w, clock: clock}
}

var maxDeposit = decimal.NewFromInt(1_000_000_000)

// Balance returns a wallet; a user who never had money has a zero balance.
func (w *Wallets) Balance(ctx context.Context, username string) (ports.Wallet, error) {
	if !idPattern.MatchString(username) {
		return ports.Wallet{}, invalid("username", "a username is 1 to 128 characters from A-Z a-z 0-9 . _ @ : -")
	}
	wallet, err := w.wallets.Get(ctx, username)
	if errors.Is(err, ports.ErrNotFound) {
		return ports.Wallet{Username: username, Balance: decimal.Zero}, nil
	}
	return wallet, err
}

// Deposit adds money to a wallet, once per key.
func (w *Wallets) Deposit(ctx context.Context, username string, amount decimal.Decimal, key string) (ports.Wallet, error) {
	switch {
	case !idPattern.MatchString(username):
		return ports.Wallet{}, invalid("username", "a username is 1 to 128 characters from A-Z a-z 0-9 . _ @ : -")
	case !amount.IsPositive() || amount.GreaterThan(maxDeposit) || !amount.Equal(amount.Round(2)):
		return ports.Wallet{}, invalid("amount", "a deposit is more than 0 and at most 1,000,000,000, with at most 2 decimals")
	case key == "":
		return ports.Wallet{}, fmt.Errorf("deposit without a key")
	}
	// Keys are the caller's: scope them to the wallet.
	return w.wallets.Deposit(ctx, username, amount, username+"|"+key, w.clock.Now().UTC())
}
