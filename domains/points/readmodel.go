package points

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/unicornstore/unicorn/ports"
)

// ExpiringWindowDays is how far ahead Balance looks for points about to expire.
const ExpiringWindowDays = 30

// ReadModel builds the balances view from ledger events and answers queries
// from it. Building it is idempotent: every event is applied exactly once,
// because the view stores the last applied Seq together with its effect, and
// a gap (an event delivered before one it follows) is filled from the ledger.
type ReadModel struct {
	ledger   ports.Ledger
	balances ports.Balances
	clock    ports.Clock
}

// NewReadModel returns a ReadModel over the ledger and the balances view.
func NewReadModel(ledger ports.Ledger, balances ports.Balances, clock ports.Clock) (*ReadModel, error) {
	if ledger == nil || balances == nil || clock == nil {
		return nil, errors.New("points read model: ledger, balances and clock are required")
	}
	return &ReadModel{ledger: ledger, balances: balances, clock: clock}, nil
}

// Apply projects one delivered event. Deliveries may repeat and arrive out
// of order: repeats are skipped, gaps are filled from the ledger.
func (m *ReadModel) Apply(ctx context.Context, ev ports.Event) error {
	// A delivery that a reader's catch-up (or an earlier delivery) already
	// applied is the common case after a read-your-writes: skip it without
	// loading the lots. On an error, the full path decides.
	if v, _, err := m.balances.Summary(ctx, ev.Account); err == nil && ev.Seq <= v.Seq {
		return nil
	}
	return m.applyEvents(ctx, ev.Account, []ports.Event{ev})
}

// CatchUp applies whatever the ledger holds beyond the account's view, so a
// client reads its own writes even before the dispatcher has delivered them.
func (m *ReadModel) CatchUp(ctx context.Context, account string) error {
	return m.applyEvents(ctx, account, nil)
}

func (m *ReadModel) applyEvents(ctx context.Context, account string, events []ports.Event) error {
	err := m.balances.Update(ctx, account, func(v *ports.BalanceView) (bool, error) {
		book := lotBook{lots: v.Lots}
		seq, at := v.Seq, v.UpdatedAt
		step := func(ev ports.Event) error {
			c, err := decode(ev)
			if err != nil {
				return err
			}
			if err := c.applyTo(&book, ev.RecordedAt); err != nil {
				return fmt.Errorf("project %s seq %d: %w", ev.Account, ev.Seq, err)
			}
			seq, at = ev.Seq, ev.RecordedAt
			return nil
		}
		fill := func() error {
			missing, err := m.ledger.Load(ctx, account, seq)
			if err != nil {
				return fmt.Errorf("fill gap after seq %d: %w", seq, err)
			}
			for _, ev := range missing {
				if ev.Seq != seq+1 {
					return fmt.Errorf("ledger of %s jumps from seq %d to %d: %w", account, seq, ev.Seq, errCorrupt)
				}
				if err := step(ev); err != nil {
					return err
				}
			}
			return nil
		}
		if len(events) == 0 {
			if err := fill(); err != nil {
				return false, err
			}
		}
		for _, ev := range events {
			if ev.Seq > seq+1 {
				if err := fill(); err != nil {
					return false, err
				}
			}
			switch {
			case ev.Seq <= seq:
				continue // already applied
			case ev.Seq > seq+1:
				return false, fmt.Errorf("event %s seq %d is not in the ledger (it holds up to %d): %w", account, ev.Seq, seq, errCorrupt)
			}
			if err := step(ev); err != nil {
				return false, err
			}
		}
		if seq == v.Seq {
			return false, nil
		}
		v.Lots, v.Seq, v.UpdatedAt, v.NextDue, v.Pending = book.lots, seq, at, book.nextDue(), book.pending()
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("project account %s: %w", account, err)
	}
	return nil
}

// Rebuild replays the whole ledger into an emptied view. progress, when not
// nil, is told how many events have been replayed so far.
func (m *ReadModel) Rebuild(ctx context.Context, batch int, progress func(done int64)) error {
	if batch < 1 {
		batch = 1000
	}
	if err := m.balances.Reset(ctx); err != nil {
		return fmt.Errorf("reset balances: %w", err)
	}
	var done int64
	cursor := ""
	for {
		events, next, err := m.ledger.ReadAll(ctx, cursor, batch)
		if err != nil {
			return fmt.Errorf("read ledger: %w", err)
		}
		// One write per account per batch; order within an account is kept.
		var order []string
		byAccount := map[string][]ports.Event{}
		for _, ev := range events {
			if _, ok := byAccount[ev.Account]; !ok {
				order = append(order, ev.Account)
			}
			byAccount[ev.Account] = append(byAccount[ev.Account], ev)
		}
		for _, account := range order {
			if err := m.applyEvents(ctx, account, byAccount[account]); err != nil {
				return err
			}
		}
		done += int64(len(events))
		if progress != nil {
			progress(done)
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}

// LotStatus is a lot as the balance query shows it.
type LotStatus struct {
	ports.Lot
	Status string // "active" or "expired"
}

// LotPage asks for part of an account's lots: an account keeps a lot per
// day, ten years of which are 3,650.
type LotPage struct {
	After  string // the IssuedOn of the last lot of the page before; "" from the first
	Limit  int    // 1 to MaxLotPage; 0 means DefaultLotPage
	Active bool   // only the lots spendable today
}

// The lots a balance shows at a time.
const (
	DefaultLotPage = 100
	MaxLotPage     = 1000
)

// ErrInvalidLotPage: a page of lots outside 1 to MaxLotPage, or after
// something that is not a day.
var ErrInvalidLotPage = errors.New("a page of lots holds 1 to 1000 lots, after a day (YYYY-MM-DD)")

// Balance is an account's points as of a moment.
type Balance struct {
	Account   AccountID
	Available int64 // spendable now: the points of active lots
	// Pending is earned but not spendable yet (a purchase's points during
	// its return window); each lot says when its pending points mature.
	Pending int64
	// Lots is the page asked for, in issue order; NextLots is the After of
	// the page that follows, "" when this one is the last.
	Lots     []LotStatus
	NextLots string
	// ExpiringSoon is what expires within ExpiringWindowDays from today.
	ExpiringSoon int64
	AsOf         time.Time
	Seq          int64 // the last ledger event included
}

// Balance reads the account's balance and a page of its lots. Expiry is
// computed at read time, so a lot past its day is excluded even before the
// sweeper has expired it. The sums and the page are read apart, each in
// time proportional to what it returns, not to the account's history.
func (m *ReadModel) Balance(ctx context.Context, account AccountID, page LotPage) (Balance, error) {
	if account.IsZero() {
		return Balance{}, ErrInvalidAccount
	}
	if page.Limit == 0 {
		page.Limit = DefaultLotPage
	}
	if page.Limit < 1 || page.Limit > MaxLotPage {
		return Balance{}, ErrInvalidLotPage
	}
	if page.After != "" {
		if _, err := ParseDay(page.After); err != nil {
			return Balance{}, ErrInvalidLotPage
		}
	}
	now := m.clock.Now().UTC()
	today := DayOf(now)
	horizon := today.AddDays(ExpiringWindowDays).String()
	// Active lots are those expiring after today (see active): what expires
	// after today is available, and what does not expire after the horizon
	// is expiring soon.
	v, sums, err := m.fresh(ctx, account.String(), today.String(), horizon)
	if err != nil {
		return Balance{}, err
	}
	b := Balance{Account: account, AsOf: now, Seq: v.Seq, Available: sums[0], ExpiringSoon: sums[0] - sums[1], Pending: v.Pending}
	expiringAfter := ""
	if page.Active {
		expiringAfter = today.String()
	}
	lots, err := m.balances.Lots(ctx, account.String(), page.After, page.Limit+1, expiringAfter)
	if err != nil {
		return Balance{}, fmt.Errorf("read lots of %s: %w", account, err)
	}
	if len(lots) > page.Limit {
		lots = lots[:page.Limit]
		b.NextLots = lots[page.Limit-1].IssuedOn
	}
	b.Lots = make([]LotStatus, 0, len(lots))
	for _, l := range lots {
		st := LotStatus{Lot: l, Status: "expired"}
		if active(l, today.String()) {
			st.Status = "active"
		}
		b.Lots = append(b.Lots, st)
	}
	return b, nil
}

// fresh returns the account's summary (see ports.Balances) including every
// event the ledger holds now: read-your-writes for a client that just
// issued or redeemed.
func (m *ReadModel) fresh(ctx context.Context, account string, days ...string) (ports.BalanceView, []int64, error) {
	read := func() (ports.BalanceView, []int64, error) {
		v, sums, err := m.balances.Summary(ctx, account, days...)
		if errors.Is(err, ports.ErrNotFound) {
			return ports.BalanceView{Account: account}, make([]int64, len(days)), nil
		}
		if err != nil {
			return v, nil, fmt.Errorf("read balance of %s: %w", account, err)
		}
		return v, sums, nil
	}
	v, sums, err := read()
	if err != nil {
		return v, nil, err
	}
	version, err := m.ledger.Version(ctx, account)
	if err != nil {
		return v, nil, fmt.Errorf("read ledger version of %s: %w", account, err)
	}
	if version <= v.Seq {
		return v, sums, nil
	}
	if err := m.CatchUp(ctx, account); err != nil {
		return v, nil, err
	}
	return read()
}

// Transactions lists the account's ledger newest first, limit at a time;
// before is the Seq to continue below (0 for the newest). next is the value
// of before for the following page, 0 when there is none.
func (m *ReadModel) Transactions(ctx context.Context, account AccountID, before int64, limit int) (txs []Transaction, next int64, err error) {
	if account.IsZero() {
		return nil, 0, ErrInvalidAccount
	}
	events, err := m.ledger.LoadBackward(ctx, account.String(), before, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("read transactions of %s: %w", account, err)
	}
	txs = make([]Transaction, 0, len(events))
	for _, ev := range events {
		c, err := decode(ev)
		if err != nil {
			return nil, 0, err
		}
		txs = append(txs, transactionOf(account, ev, c))
	}
	if len(events) == limit && events[len(events)-1].Seq > 1 {
		next = events[len(events)-1].Seq
	}
	return txs, next, nil
}

// Sweeper matures pending points and expires due lots across accounts. It finds candidates in the read
// model, but each expiry is decided by Service from the account's stream.
type Sweeper struct {
	service  *Service
	balances ports.Balances
	clock    ports.Clock
	// Review, when set, is run for every account the sweep visits, after
	// its points matured and expired: the members' tier review.
	Review func(context.Context, AccountID) error
}

// NewSweeper returns a Sweeper.
func NewSweeper(service *Service, balances ports.Balances, clock ports.Clock) *Sweeper {
	return &Sweeper{service: service, balances: balances, clock: clock}
}

// SweepResult counts what one sweep did.
type SweepResult struct {
	Accounts int   // accounts that had points expire
	Points   int64 // points expired
	Matured  int64 // pending points that became spendable
	Failed   int   // accounts whose sweep failed (Sweep's error names them)
}

// maxReportedFailures bounds the accounts a sweep's error names.
const maxReportedFailures = 10

// Sweep matures the pending points due today, then expires every lot due
// today (maturing first, so that points matured on their last day are
// counted before their lot is looked at). An account whose sweep fails is
// counted and reported, and the sweep goes on with the others: one
// damaged or busy account must not keep every later one from expiring.
// The error names the accounts that failed (the first few); the next
// sweep tries them again, as they are still due.
func (s *Sweeper) Sweep(ctx context.Context) (SweepResult, error) {
	var res SweepResult
	var failures []error
	today := DayOf(s.clock.Now()).String()
	cursor := ""
	for {
		accounts, next, err := s.balances.Due(ctx, today, cursor, 500)
		if err != nil {
			return res, errors.Join(append(failures, fmt.Errorf("find expiring accounts: %w", err))...)
		}
		for _, stream := range accounts {
			if err := ctx.Err(); err != nil {
				return res, errors.Join(append(failures, err)...)
			}
			account, err := ParseAccountID(stream)
			var txs, matured []Transaction
			if err == nil {
				matured, err = s.service.Mature(ctx, account)
			}
			for _, t := range matured {
				res.Matured += t.Amount
			}
			if err == nil {
				txs, err = s.service.Expire(ctx, account)
			}
			if err == nil && s.Review != nil {
				err = s.Review(ctx, account)
			}
			if len(txs) > 0 {
				res.Accounts++
			}
			for _, t := range txs {
				res.Points += t.Amount
			}
			if err != nil {
				res.Failed++
				if len(failures) < maxReportedFailures {
					failures = append(failures, fmt.Errorf("expire account %s: %w", stream, err))
				}
			}
		}
		if next == "" {
			if res.Failed > len(failures) {
				failures = append(failures, fmt.Errorf("and %d more accounts", res.Failed-len(failures)))
			}
			return res, errors.Join(failures...)
		}
		cursor = next
	}
}
