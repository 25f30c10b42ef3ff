package points

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/unicornstore/unicorn/limits"
	"github.com/unicornstore/unicorn/ports"
)

// DefaultTTLDays is how long a lot stays spendable when nothing is configured.
const DefaultTTLDays = 365

// maxAttempts bounds how often a command reloads and decides again when
// another writer appended first.
const maxAttempts = 20

// Transaction types, as the API shows them (seed 003 calls an issue "issue").
const (
	TxIssue              = "issue"
	TxRedeem             = "redeem"
	TxExpire             = "expire"
	TxIssueReversal      = "issue_reversal"
	TxRedemptionReversal = "redemption_reversal"
	TxMaturity           = "maturity"
	TxTierChange         = "tier_change"
)

// Transaction is the outcome of one event, as commands return it and the
// history lists it. It is the domain's value: the API and the idempotency
// records each write it in a shape of their own.
type Transaction struct {
	ID      string
	Account AccountID
	Seq     int64
	Type    string // TxIssue, TxRedeem, ...
	Amount  int64
	At      time.Time
	// BalanceAfter is the available balance right after the command; it is
	// only known to the command that made the transaction.
	BalanceAfter *int64
	Lot          string
	ExpiresOn    string
	Allocations  []Allocation
	Reference    string
	Details      json.RawMessage
	Reverses     string
	Unrecovered  int64
	// MaturesOn is when an issue's points become spendable: until then
	// they are pending. Pending is, for an issue reversal, what it
	// cancelled of the issue's pending points.
	MaturesOn string
	Pending   int64
	// A tier change: from PreviousTier to Tier, and why (Reason).
	Tier, PreviousTier, Reason string
}

func transactionOf(account AccountID, ev ports.Event, c change) Transaction {
	t := Transaction{ID: ev.ID, Account: account, Seq: ev.Seq, At: ev.RecordedAt}
	switch e := c.(type) {
	case Issued:
		t.Type, t.Amount, t.Lot, t.ExpiresOn, t.Reference, t.Details = TxIssue, e.Amount, e.Lot, e.ExpiresOn, e.Reference, e.Details
		t.MaturesOn = e.MaturesOn
	case Matured:
		t.Type, t.Amount, t.Lot, t.ExpiresOn = TxMaturity, e.Amount, e.Lot, e.ExpiresOn
	case TierChanged:
		t.Type, t.Tier, t.PreviousTier, t.Reason = TxTierChange, e.To, e.From, e.Reason
	case Redeemed:
		t.Type, t.Amount, t.Allocations, t.Reference = TxRedeem, e.Amount, e.Allocations, e.Reference
	case Expired:
		t.Type, t.Amount, t.Lot, t.ExpiresOn = TxExpire, e.Amount, e.Lot, e.ExpiresOn
	case IssueReversed:
		t.Type, t.Amount, t.Allocations, t.Reverses, t.Unrecovered = TxIssueReversal, e.Amount, e.Allocations, e.IssueID, e.Unrecovered
		t.Pending, t.Lot = e.Pending, e.Lot
	case RedemptionReversed:
		t.Type, t.Amount, t.Allocations, t.Reverses = TxRedemptionReversal, e.Amount, e.Allocations, e.RedemptionID
	}
	return t
}

// Config holds the rules a deployment chooses.
type Config struct {
	// TTLDays is how many days after its issue day a lot expires (seed 003
	// used 2). 0 means DefaultTTLDays.
	TTLDays int
	// SnapshotEvery is how many events may follow an account's snapshot
	// before a command takes a new one. 0 means DefaultSnapshotEvery.
	SnapshotEvery int
	// CachedAccounts is how many accounts' states are kept between
	// commands: 0 means DefaultCachedAccounts, a negative number none.
	CachedAccounts int
}

// DefaultSnapshotEvery keeps a command's read to at most 20 events after a
// snapshot (measured: a hot account's redemption took 0.40 ms at 100, see
// docs/benchmarks.md).
const DefaultSnapshotEvery = 20

// Deps are the ports the service works through.
type Deps struct {
	Ledger ports.Ledger
	// Snapshots is optional: without it every command reads the whole
	// stream of its account.
	Snapshots ports.Snapshots
	Clock     ports.Clock
	IDs       ports.IDs
	// Log receives what goes wrong without failing a command (a snapshot
	// that could not be written). Optional.
	Log *slog.Logger
}

// Service runs the points commands. Each command loads the account's stream,
// decides, and appends at the version it loaded; it is safe for concurrent
// use, within a process and across processes sharing a ledger.
type Service struct {
	ledger        ports.Ledger
	snapshots     ports.Snapshots
	clock         ports.Clock
	ids           ports.IDs
	log           *slog.Logger
	ttlDays       int
	snapshotEvery int

	// Commands on one account in this process take turns, so they do not
	// spend their time losing optimistic-concurrency races to each other.
	// Other processes are still kept out by the ledger's version check.
	seed  maphash.Seed
	locks [256]sync.Mutex

	cache *accountCache
}

// NewService returns a Service over the ledger.
func NewService(d Deps, cfg Config) (*Service, error) {
	if d.Ledger == nil || d.Clock == nil || d.IDs == nil {
		return nil, errors.New("points service: ledger, clock and ids are required")
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	ttl := cmp.Or(cfg.TTLDays, DefaultTTLDays)
	if ttl < 1 || ttl > 36500 {
		return nil, fmt.Errorf("points service: TTL of %d days is outside 1..36500", cfg.TTLDays)
	}
	every := cmp.Or(cfg.SnapshotEvery, DefaultSnapshotEvery)
	if every < 1 {
		return nil, fmt.Errorf("points service: snapshot every %d events is not possible", cfg.SnapshotEvery)
	}
	cached := cfg.CachedAccounts
	if cached == 0 {
		cached = DefaultCachedAccounts
	}
	return &Service{ledger: d.Ledger, snapshots: d.Snapshots, clock: d.Clock, ids: d.IDs, log: d.Log,
		ttlDays: ttl, snapshotEvery: every, seed: maphash.MakeSeed(), cache: newAccountCache(cached)}, nil
}

// TTLDays returns the configured lifetime of a lot.
func (s *Service) TTLDays() int { return s.ttlDays }

// IssueCommand adds points to the lot of today.
type IssueCommand struct {
	Account AccountID
	Amount  int64
	// Key makes the command idempotent: a repeat with the same key returns
	// the first result and changes nothing; the same key with another
	// command is ErrKeyReused. Keys are scoped by the account's client:
	// two clients' keys never meet. "" means no key.
	Key       string
	Reference string          // what the points are for, e.g. "order:42"
	Details   json.RawMessage // why, e.g. a campaign breakdown; kept on the event
	// Request, when set, is what the caller asked for, and what a repeat
	// of Key is compared with instead of the amount and details (an award
	// is the same request however the campaigns changed since).
	Request string
	// PendingDays keeps the points pending, unspendable, for that many
	// days (a purchase's return window); 0 makes them spendable at once.
	PendingDays int
}

// Issue adds points.
func (s *Service) Issue(ctx context.Context, cmd IssueCommand) (Transaction, error) {
	if err := validate(cmd.Account, cmd.Amount); err != nil {
		return Transaction{}, err
	}
	if len(cmd.Reference) > limits.ReferenceChars {
		return Transaction{}, ErrInvalidReference
	}
	if cmd.Details != nil && !json.Valid(cmd.Details) {
		return Transaction{}, errors.New("issue details must be JSON")
	}
	if cmd.PendingDays < 0 || cmd.PendingDays >= s.ttlDays {
		return Transaction{}, fmt.Errorf("points pending %d days would not mature before they expire (%d days)", cmd.PendingDays, s.ttlDays)
	}
	fp := issueFingerprint(cmd)
	txs, err := s.execute(ctx, cmd.Account, cmd.Key, fp, func(a *Account, now time.Time) ([]change, error) {
		return []change{a.decideIssue(cmd.Amount, now, s.ttlDays, cmd.PendingDays, cmd.Reference, cmd.Details)}, nil
	})
	return first(txs, err)
}

// Replay returns the transaction an earlier Issue with cmd's Key made:
// found is false when the key is unused; a key used for another command
// (another Request, when cmd has one) is ErrKeyReused. A caller that
// decides the amount itself (an award) asks before deciding again.
func (s *Service) Replay(ctx context.Context, cmd IssueCommand) (Transaction, bool, error) {
	if cmd.Account.IsZero() || cmd.Key == "" {
		return Transaction{}, false, errors.New("replay needs an account and a key")
	}
	txs, found, err := s.replay(ctx, scopedKey(cmd.Account.Client(), cmd.Key), issueFingerprint(cmd))
	if err != nil || !found {
		return Transaction{}, found, err
	}
	tx, err := first(txs, nil)
	return tx, true, err
}

func issueFingerprint(cmd IssueCommand) string {
	if cmd.Request != "" {
		return fingerprint(TxIssue, cmd.Account.String(), "request", cmd.Request)
	}
	if cmd.PendingDays > 0 {
		return fingerprint(TxIssue, cmd.Account.String(), strconv.FormatInt(cmd.Amount, 10), cmd.Reference, string(cmd.Details),
			"pending", strconv.Itoa(cmd.PendingDays))
	}
	return fingerprint(TxIssue, cmd.Account.String(), strconv.FormatInt(cmd.Amount, 10), cmd.Reference, string(cmd.Details))
}

// RedeemCommand spends points, oldest lots first.
type RedeemCommand struct {
	Account   AccountID
	Amount    int64
	Key       string // as for IssueCommand
	Reference string
}

// Redeem spends points. It fails with an *InsufficientPointsError when the
// active lots hold fewer than Amount.
func (s *Service) Redeem(ctx context.Context, cmd RedeemCommand) (Transaction, error) {
	if err := validate(cmd.Account, cmd.Amount); err != nil {
		return Transaction{}, err
	}
	if len(cmd.Reference) > limits.ReferenceChars {
		return Transaction{}, ErrInvalidReference
	}
	fp := fingerprint(TxRedeem, cmd.Account.String(), strconv.FormatInt(cmd.Amount, 10), cmd.Reference)
	txs, err := s.execute(ctx, cmd.Account, cmd.Key, fp, func(a *Account, now time.Time) ([]change, error) {
		r, err := a.decideRedeem(cmd.Amount, now, cmd.Reference)
		if err != nil {
			return nil, err
		}
		return []change{r}, nil
	})
	return first(txs, err)
}

// ReverseCommand undoes an issue or a redemption.
type ReverseCommand struct {
	Account       AccountID
	TransactionID string
	// Amount is how many of its points to take back (a return of part of
	// an order), at most what earlier reversals left; 0 takes back all
	// that is left.
	Amount int64
	Key    string // as for IssueCommand
}

// Reverse undoes an issue or a redemption of the account, or part of one.
// Reversals of one transaction never take back more than it moved.
func (s *Service) Reverse(ctx context.Context, cmd ReverseCommand) (Transaction, error) {
	if cmd.Account.IsZero() {
		return Transaction{}, ErrInvalidAccount
	}
	if cmd.Amount < 0 || cmd.Amount > MaxAmount {
		return Transaction{}, ErrInvalidAmount
	}
	fp := fingerprint("reverse", cmd.Account.String(), cmd.TransactionID)
	if cmd.Amount > 0 {
		fp = fingerprint("reverse", cmd.Account.String(), cmd.TransactionID, strconv.FormatInt(cmd.Amount, 10))
	}
	txs, err := s.execute(ctx, cmd.Account, cmd.Key, fp, func(a *Account, now time.Time) ([]change, error) {
		t, err := s.findForReversal(ctx, a, cmd.TransactionID)
		if err != nil {
			return nil, err
		}
		c, err := a.decideReverse(t, cmd.Amount, now)
		if err != nil {
			return nil, err
		}
		return []change{c}, nil
	})
	return first(txs, err)
}

// Expire removes the points of the account's lots that are past their
// expiry, one expired event per lot. It returns no transactions when nothing
// is due. It needs no idempotency key: a second sweep finds nothing due.
//
// An append holds at most ports.MaxAppendEvents events, so an account with
// more lots due (a daily lot for months, expired after a long pause) has
// them expired in parts, oldest first, each its own command: a part that
// is written stays written, and whatever a failure leaves is still due.
// It returns the transactions of the parts written, and the error that
// stopped the rest.
func (s *Service) Expire(ctx context.Context, account AccountID) ([]Transaction, error) {
	if account.IsZero() {
		return nil, ErrInvalidAccount
	}
	var all []Transaction
	for {
		txs, err := s.execute(ctx, account, "", "", func(a *Account, now time.Time) ([]change, error) {
			due := a.decideExpire(now)
			return due[:min(len(due), ports.MaxAppendEvents)], nil
		})
		all = append(all, txs...)
		if err != nil || len(txs) < ports.MaxAppendEvents {
			return all, err
		}
	}
}

// Mature makes spendable the account's pending points whose maturity has
// come, one event per lot. It needs no idempotency key: a second sweep
// finds nothing due.
func (s *Service) Mature(ctx context.Context, account AccountID) ([]Transaction, error) {
	if account.IsZero() {
		return nil, ErrInvalidAccount
	}
	var all []Transaction
	for {
		txs, err := s.execute(ctx, account, "", "", func(a *Account, now time.Time) ([]change, error) {
			due := a.decideMature(now)
			return due[:min(len(due), ports.MaxAppendEvents)], nil
		})
		all = append(all, txs...)
		if err != nil || len(txs) < ports.MaxAppendEvents {
			return all, err
		}
	}
}

// ReviewTier records the member's move to the tier the policy gives for
// what they earned in its window, when that is not their tier: one
// TierChanged event, or nothing. Safe to run at any time: a second review
// finds nothing to change.
func (s *Service) ReviewTier(ctx context.Context, account AccountID, p TierPolicy) ([]Transaction, error) {
	if account.IsZero() {
		return nil, ErrInvalidAccount
	}
	return s.execute(ctx, account, "", "", func(a *Account, now time.Time) ([]change, error) {
		return a.decideTier(now, p), nil
	})
}

// Find returns the transaction a command of client sent with key made, or
// ErrTransactionNotFound if no command with that key has succeeded.
func (s *Service) Find(ctx context.Context, client, key string) (Transaction, error) {
	_, txs, err := s.stored(ctx, scopedKey(client, key))
	if errors.Is(err, ports.ErrNotFound) {
		return Transaction{}, fmt.Errorf("key %q: %w", key, ErrTransactionNotFound)
	}
	return first(txs, err)
}

// scopedKey is where a client's idempotency key is stored: under the
// client, which no key can name, so one client can neither use up nor
// probe another's keys.
func scopedKey(client, key string) string { return client + "/" + key }

// stored reads what the command sent with a (scoped) key recorded: its
// fingerprint and its transactions. An unknown key is ports.ErrNotFound.
func (s *Service) stored(ctx context.Context, key string) (string, []Transaction, error) {
	rec, err := s.ledger.Idempotency(ctx, key)
	if err != nil {
		return "", nil, fmt.Errorf("read idempotency key: %w", err)
	}
	account, err := ParseAccountID(rec.Account)
	if err != nil {
		return "", nil, fmt.Errorf("stored result of key %q: %w", key, err)
	}
	txs, err := decodeResult(account, rec.Result)
	if err != nil {
		return "", nil, fmt.Errorf("decode stored result of key %q: %w", key, err)
	}
	return rec.Fingerprint, txs, nil
}

// Load rebuilds the account from its whole stream, without its snapshot:
// what checks of the snapshots compare with.
func (s *Service) Load(ctx context.Context, account AccountID) (*Account, error) {
	return s.load(ctx, account, wholeStream)
}

// How an account is read.
const (
	fromSnapshot = false // the latest snapshot and the events after it
	wholeStream  = true  // every event
)

func (s *Service) load(ctx context.Context, id AccountID, whole bool) (*Account, error) {
	account := id.String()
	a := newAccount(id)
	if !whole && s.snapshots != nil {
		snap, err := s.snapshots.Get(ctx, account)
		switch {
		case err == nil:
			if restored, ok := restoreAccount(snap); ok {
				a = restored
			} else {
				s.log.WarnContext(ctx, "points snapshot unusable, reading the whole stream", "account", account, "version", snap.Version)
			}
		case !errors.Is(err, ports.ErrNotFound):
			return nil, fmt.Errorf("load account %s: %w", account, err)
		}
	}
	events, err := s.ledger.Load(ctx, account, a.version)
	if err != nil {
		return nil, fmt.Errorf("load account %s: %w", account, err)
	}
	return rehydrate(a, events)
}

// loadForCommand is load for a command, which holds the account's lock:
// it starts from the cached state when there is one and reads only the
// events after it.
func (s *Service) loadForCommand(ctx context.Context, id AccountID) (*Account, error) {
	a := s.cache.take(id.String())
	if a == nil {
		return s.load(ctx, id, fromSnapshot)
	}
	events, err := s.ledger.Load(ctx, id.String(), a.version)
	if err != nil {
		return nil, fmt.Errorf("load account %s: %w", id, err)
	}
	return rehydrate(a, events)
}

// reversalPage is how many events a reversal reads at a time, newest
// first, looking for the transaction it takes back.
const reversalPage = 64

// findForReversal finds transaction id in the account's stream, up to the
// version the account was loaded at (so that what it finds agrees with the
// state the reversal decides from; a reversal appended since makes the
// append conflict, and the command decides again).
func (s *Service) findForReversal(ctx context.Context, a *Account, id string) (reversalTarget, error) {
	scan := reversalScan{id: id}
	for before := a.version + 1; before > 1; {
		events, err := s.ledger.LoadBackward(ctx, a.id.String(), before, reversalPage)
		if err != nil {
			return reversalTarget{}, fmt.Errorf("find transaction %s of %s: %w", id, a.id, err)
		}
		if len(events) == 0 {
			break
		}
		done, err := scan.read(events)
		if err != nil {
			return reversalTarget{}, err
		}
		if done {
			return *scan.found, nil
		}
		before = events[len(events)-1].Seq
	}
	return reversalTarget{}, ErrTransactionNotFound
}

// snapshotDue returns the account's state to store with the append that
// brought it there, when enough events followed its last snapshot. One
// that cannot be encoded is not the command's failure: a later command
// takes it, and meanwhile loads read a few more events.
func (s *Service) snapshotDue(ctx context.Context, a *Account, now time.Time) *ports.Snapshot {
	if s.snapshots == nil || a.version-a.snapshotAt < int64(s.snapshotEvery) {
		return nil
	}
	snap, err := a.snapshot(now)
	if err != nil {
		s.log.WarnContext(ctx, "points snapshot not taken", "account", a.id, "version", a.version, "err", err)
		return nil
	}
	return &snap
}

// execute is the command loop: load, decide, append at the loaded version;
// on a lost race reload and decide again; with a key, a repeat returns the
// first result.
func (s *Service) execute(ctx context.Context, account AccountID, key, fp string, decide func(*Account, time.Time) ([]change, error)) ([]Transaction, error) {
	if key != "" {
		if len(key) > limits.IdempotencyKeyChars {
			return nil, ErrInvalidKey
		}
		key = scopedKey(account.Client(), key)
	}
	mu := &s.locks[maphash.String(s.seed, account.String())%uint64(len(s.locks))]
	mu.Lock()
	defer mu.Unlock()

	for attempt := 1; ; attempt++ {
		acct, err := s.loadForCommand(ctx, account)
		if err != nil {
			return nil, err
		}
		now := s.clock.Now()
		changes, err := decide(acct, now)
		if err != nil || len(changes) == 0 {
			s.cache.put(acct) // deciding changed nothing: still the stored state
		}
		if err != nil {
			// A repeat of a command that succeeded may not be possible
			// any more (the points are spent): the first result wins.
			if key != "" {
				if txs, found, rerr := s.replay(ctx, key, fp); found || rerr != nil {
					return txs, rerr
				}
			}
			return nil, err
		}
		if len(changes) == 0 {
			return nil, nil
		}
		app, txs, err := s.record(acct, changes, now)
		if err != nil {
			return nil, err
		}
		if key != "" {
			result, err := encodeResult(txs)
			if err != nil {
				return nil, fmt.Errorf("encode result: %w", err)
			}
			app.Idempotency = &ports.IdempotencyRecord{Key: key, Account: account.String(), Fingerprint: fp, Result: result, CreatedAt: now}
		}
		app.Snapshot = s.snapshotDue(ctx, acct, now)
		err = s.ledger.Append(ctx, app)
		switch {
		case err == nil:
			if app.Snapshot != nil {
				acct.snapshotStored()
			}
			s.cache.put(acct)
			return txs, nil
		case errors.Is(err, ports.ErrDuplicate):
			txs, found, err := s.replay(ctx, key, fp)
			if err == nil && !found {
				err = fmt.Errorf("idempotency key %q reported as duplicate but not found", key)
			}
			return txs, err
		case errors.Is(err, ports.ErrConflict):
			if attempt == maxAttempts {
				return nil, ErrBusy
			}
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("append to account %s: %w", account, err)
		}
	}
}

// record turns decided changes into events at the account's next sequence
// numbers and applies them to the account, which checks them and gives the
// balance after each.
func (s *Service) record(acct *Account, changes []change, now time.Time) (ports.Append, []Transaction, error) {
	app := ports.Append{Account: acct.id.String(), ExpectedVersion: acct.version}
	txs := make([]Transaction, 0, len(changes))
	for _, c := range changes {
		data, err := json.Marshal(c)
		if err != nil {
			return app, nil, fmt.Errorf("encode %s: %w", c.eventType(), err)
		}
		ev := ports.Event{ID: s.ids.NewID(), Account: acct.id.String(), Seq: acct.version + 1, Type: c.eventType(),
			Version: payloadVersion, Data: data, RecordedAt: now.UTC()}
		if err := acct.apply(ev); err != nil {
			return app, nil, err
		}
		t := transactionOf(acct.id, ev, c)
		bal := acct.Available(now)
		t.BalanceAfter = &bal
		app.Events = append(app.Events, ev)
		txs = append(txs, t)
	}
	return app, txs, nil
}

// replay returns the stored result of key; found is false when the key was
// never used.
func (s *Service) replay(ctx context.Context, key, fp string) ([]Transaction, bool, error) {
	storedFP, txs, err := s.stored(ctx, key)
	switch {
	case errors.Is(err, ports.ErrNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	case storedFP != fp:
		return nil, true, ErrKeyReused
	}
	return txs, true, nil
}

func validate(account AccountID, amount int64) error {
	if account.IsZero() {
		return ErrInvalidAccount
	}
	return ValidateAmount(amount)
}

func first(txs []Transaction, err error) (Transaction, error) {
	if err != nil {
		return Transaction{}, err
	}
	if len(txs) == 0 {
		return Transaction{}, errors.New("command recorded no transaction")
	}
	return txs[0], nil
}

// fingerprint identifies a command's content, so that a key reused for a
// different command is refused instead of answered with another's result.
func fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// backoff grows from about 1 ms to at most about 50 ms, with jitter so that
// racing writers spread out.
func backoff(attempt int) time.Duration {
	d := time.Millisecond << min(attempt, 6)
	d = min(d, 50*time.Millisecond)
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
