package points

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// The result of a command sent with an idempotency key is stored so that a
// repeat answers the same. It is stored in a shape of its own, versioned,
// so that the API's field names can change without touching stored data.

const resultFormat = 1

type storedResult struct {
	Format       int         `json:"format"`
	Transactions []storedTxn `json:"transactions"`
}

type storedTxn struct {
	ID           string          `json:"id"`
	Seq          int64           `json:"seq"`
	Type         string          `json:"type"`
	Amount       int64           `json:"amount"`
	At           time.Time       `json:"at"`
	BalanceAfter *int64          `json:"balance_after,omitempty"`
	Lot          string          `json:"lot,omitempty"`
	ExpiresOn    string          `json:"expires_on,omitempty"`
	Allocations  []Allocation    `json:"allocations,omitempty"`
	Reference    string          `json:"reference,omitempty"`
	Details      json.RawMessage `json:"details,omitempty"`
	Reverses     string          `json:"reverses,omitempty"`
	Unrecovered  int64           `json:"unrecovered,omitempty"`
	MaturesOn    string          `json:"matures_on,omitempty"`
	Pending      int64           `json:"pending,omitempty"`
}

func encodeResult(txs []Transaction) ([]byte, error) {
	r := storedResult{Format: resultFormat, Transactions: make([]storedTxn, len(txs))}
	for i, t := range txs {
		r.Transactions[i] = storedTxn{ID: t.ID, Seq: t.Seq, Type: t.Type, Amount: t.Amount, At: t.At, BalanceAfter: t.BalanceAfter,
			Lot: t.Lot, ExpiresOn: t.ExpiresOn, Allocations: t.Allocations, Reference: t.Reference, Details: t.Details,
			Reverses: t.Reverses, Unrecovered: t.Unrecovered, MaturesOn: t.MaturesOn, Pending: t.Pending}
	}
	return json.Marshal(r)
}

// legacyTxn is how results were stored before they had a shape of their
// own: a JSON array of the API's transactions.
type legacyTxn struct {
	storedTxn
	Type string    `json:"transaction_type"`
	At   time.Time `json:"date_time"`
	// The balance was named as the API names it.
	BalanceAfter *int64 `json:"balance,omitempty"`
}

func decodeResult(account AccountID, raw []byte) ([]Transaction, error) {
	var stored []storedTxn
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
		var legacy []legacyTxn
		if err := json.Unmarshal(raw, &legacy); err != nil {
			return nil, err
		}
		for _, l := range legacy {
			t := l.storedTxn
			t.Type, t.At, t.BalanceAfter = l.Type, l.At, l.BalanceAfter
			stored = append(stored, t)
		}
	} else {
		var r storedResult
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, err
		}
		if r.Format != resultFormat {
			return nil, fmt.Errorf("result format %d is not known", r.Format)
		}
		stored = r.Transactions
	}
	txs := make([]Transaction, len(stored))
	for i, t := range stored {
		txs[i] = Transaction{ID: t.ID, Account: account, Seq: t.Seq, Type: t.Type, Amount: t.Amount, At: t.At, BalanceAfter: t.BalanceAfter,
			Lot: t.Lot, ExpiresOn: t.ExpiresOn, Allocations: t.Allocations, Reference: t.Reference, Details: t.Details,
			Reverses: t.Reverses, Unrecovered: t.Unrecovered, MaturesOn: t.MaturesOn, Pending: t.Pending}
	}
	return txs, nil
}
