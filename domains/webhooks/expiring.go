package webhooks

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ExpiringResult counts what one expiring scan did.
type ExpiringResult struct {
	Accounts int // accounts of clients with an endpoint for points.expiring that were looked at
	Notices  int // lots found expiring within an endpoint's days (found again by a re-run, enqueued once)
	Failed   int // accounts whose scan failed (ScanExpiring's error names the first few)
}

// lotsPage is how many lots the scan reads at a time.
const lotsPage = 100

// maxReportedFailures bounds the accounts a scan's error names.
const maxReportedFailures = 10

// ScanExpiring finds the lots with points left that expire within an
// endpoint's ExpiringDays (after today, on or before today + days) and
// enqueues one points.expiring event per account and lot to each such
// endpoint of the account's client. Run it daily (more often does no
// harm): the event's id is made of the account and the lot, so a re-run,
// or a lot found again on a later day, enqueues nothing new, and a day
// the scan missed is made up by the next (the window is every day up to
// the expiry, not the one day N days before it). The read model's due
// index bounds the work: only accounts with something due within
// MaxExpiringDays are read, and of those only clients with an endpoint
// subscribed, and only the lots issued up to the window's end.
func (s *Service) ScanExpiring(ctx context.Context) (ExpiringResult, error) {
	var res ExpiringResult
	if s.d.Balances == nil {
		return res, errors.New("webhooks: the expiring scan needs the points read model (Deps.Balances)")
	}
	now := s.now()
	y, m, d := now.Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	horizon := today.AddDate(0, 0, MaxExpiringDays).Format(time.DateOnly)
	clients := map[string][]*Endpoint{}
	var failures []error
	cursor := ""
	for {
		accounts, next, err := s.d.Balances.Due(ctx, horizon, cursor, 500)
		if err != nil {
			return res, errors.Join(append(failures, fmt.Errorf("find accounts with points due: %w", err))...)
		}
		for _, stream := range accounts {
			if err := ctx.Err(); err != nil {
				return res, errors.Join(append(failures, err)...)
			}
			client, account, ok := splitAccount(stream)
			if !ok {
				continue
			}
			endpoints, seen := clients[client]
			if !seen {
				all, err := s.Endpoints(ctx, client)
				if err != nil {
					return res, errors.Join(append(failures, fmt.Errorf("webhook endpoints of %s: %w", client, err))...)
				}
				for _, e := range all {
					if e.wants(PointsExpiring) {
						endpoints = append(endpoints, e)
					}
				}
				clients[client] = endpoints
			}
			if len(endpoints) == 0 {
				continue
			}
			res.Accounts++
			n, err := s.scanAccount(ctx, client, account, stream, endpoints, today, now)
			res.Notices += n
			if err != nil {
				res.Failed++
				if len(failures) < maxReportedFailures {
					failures = append(failures, fmt.Errorf("expiring points of %s: %w", stream, err))
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

// scanAccount enqueues the notices of one account's lots.
func (s *Service) scanAccount(ctx context.Context, client, account, stream string, endpoints []*Endpoint, today, now time.Time) (int, error) {
	maxDays := 0
	for _, e := range endpoints {
		maxDays = max(maxDays, e.expiringDays)
	}
	last := today.AddDate(0, 0, maxDays).Format(time.DateOnly)
	notices, after := 0, ""
	for {
		lots, err := s.d.Balances.Lots(ctx, stream, after, lotsPage, today.Format(time.DateOnly))
		if err != nil {
			return notices, err
		}
		for _, lot := range lots {
			// A lot expires after the day it was issued: one issued after
			// the window cannot expire in it, nor can any after it.
			if lot.IssuedOn > last {
				return notices, nil
			}
			if lot.Remaining <= 0 || lot.ExpiresOn > last {
				continue
			}
			var to []*Endpoint
			for _, e := range endpoints {
				if lot.ExpiresOn <= today.AddDate(0, 0, e.expiringDays).Format(time.DateOnly) {
					to = append(to, e)
				}
			}
			if len(to) == 0 {
				continue
			}
			notices++
			if err := s.enqueue(ctx, expiringEvent(client, account, lot, today, now), to); err != nil {
				return notices, err
			}
		}
		if len(lots) < lotsPage {
			return notices, nil
		}
		after = lots[len(lots)-1].IssuedOn
	}
}
