import { act, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Balance, Standing, Transaction } from '../lib/types';
import { renderUI } from '../test/render';
import { PointsCenter } from './PointsCenter';

// The page counts expiry from today: Dec 20, 2026 (only the date is faked:
// the waits run on real timers).
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-12-20T10:00:00Z'));
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

// The charts need a browser's layout; these tests read the words.
vi.mock('@mantine/charts', () => ({ LineChart: () => null, BarChart: () => null }));

const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });

// derick can spend 1,200 points; 170 more are pending until Jan 2.
const balance: Balance = {
  account_id: 'derick', balance: 1200, pending: 170, as_of: '2026-12-20T10:00:00Z', expiring_soon: { days: 30, points: 0 },
  balance_entries: [
    { issued_date: '2025-12-30', issued: 1200, balance: 1200, expired: 0, expires_on: '2026-12-30', status: 'active', last_updated: '2026-01-29T00:00:00Z' },
    { issued_date: '2026-12-03', issued: 170, balance: 0, pending: 170, matures_on: '2027-01-02', expired: 0, expires_on: '2027-12-03', status: 'active', last_updated: '2026-12-03T10:00:00Z' },
  ],
};

const tx = (t: Partial<Transaction> & Pick<Transaction, 'transaction_type'>): Transaction => ({
  id: `${t.transaction_type}-${t.seq}`, account_id: 'derick', seq: 1, amount: 0, date_time: '2026-12-03T10:00:00Z', ...t,
});

const history: Transaction[] = [
  tx({ seq: 4, transaction_type: 'tier_change', tier: 'silver', previous_tier: 'member', reason: '1370 points earned in the last 365 days; silver needs 1000' }),
  tx({ seq: 5, transaction_type: 'issue_reversal', amount: 30, pending: 30, reverses: 'issue-3', date_time: '2026-12-04T10:00:00Z' }),
  tx({ seq: 3, transaction_type: 'issue', amount: 200, matures_on: '2027-01-02', reference: 'order:o-117f3a9b2c', details: { order_id: 'o-117f3a9b2c', breakdown: [] } }),
  tx({ seq: 2, transaction_type: 'maturity', amount: 1200, date_time: '2026-01-29T00:00:00Z' }),
  tx({ seq: 1, transaction_type: 'issue', amount: 1200, matures_on: '2026-01-29', reference: 'Welcome gift', date_time: '2025-12-30T10:00:00Z' }),
];

const silver: Standing = {
  account_id: 'derick', tier: 'silver', multiplier: 1.25, earned: 1200, window_days: 365,
  next: { name: 'gold', min_points: 5000, needs: 3800 },
  tiers: [
    { name: 'member', min_points: 0, multiplier: 1 },
    { name: 'silver', min_points: 1000, multiplier: 1.25 },
    { name: 'gold', min_points: 5000, multiplier: 1.5 },
  ],
};

function serve(standing: Standing) {
  const urls: string[] = [];
  vi.stubGlobal('fetch', async (url: string) => {
    urls.push(url);
    const path = url.split('?')[0];
    if (path === '/points') return json(balance);
    if (path === '/points/transactions') return json({ items: history });
    if (path === '/points/tier') return json(standing);
    if (path === '/settings') return json({ point_value: 0.01, point_ttl_days: 365 });
    return new Response('{}', { status: 404 });
  });
  return urls;
}

const user = { username: 'derick', client: 'UnicornStore', role: 'customer' as const };

describe('the points center', () => {
  it('shows the points to spend apart from the pending ones, per lot when they mature, and the history in plain words', async () => {
    serve(silver);
    renderUI(<PointsCenter user={user} />);
    expect((await screen.findByTestId('points-available')).textContent).toBe('1,200');
    expect(screen.getByTestId('points-pending').textContent).toMatch(/^170 pending until Jan 2: /);

    const lots = within(screen.getByRole('table', { name: 'Lots' }));
    const rows = lots.getAllByRole('row').slice(1);
    expect(within(rows[0]).getByTestId('lot-pending').textContent).toBe('—');
    expect(within(rows[1]).getByTestId('lot-pending').textContent).toBe('170 until Jan 2');

    expect((await screen.findByTestId('points-worth')).textContent).toBe('1,200 points to spend — worth $12.00');

    const txs = within(await screen.findByRole('table', { name: 'Transactions' }));
    await txs.findByText('Moved to silver: 1,370 points earned in the last 365 days; silver needs 1,000');
    const row = (what: string) => txs.getByText(what).closest('tr')!;
    expect(row('Earned on a purchase, pending until Jan 2').textContent).toContain('+200 pending');
    expect(row('1,200 points became spendable').textContent).toMatch(/\+1,200$/);
    expect(row('Points added, pending until Jan 29').textContent).toMatch(/Welcome gift\+1,200 pending$/);
  });

  it('links each transaction of a purchase to its order, a return\'s reversal too', async () => {
    serve(silver);
    renderUI(<PointsCenter user={user} />);
    const txs = within(await screen.findByRole('table', { name: 'Transactions' }));
    const earned = (await txs.findByText('Earned on a purchase, pending until Jan 2')).closest('tr')!;
    const link = within(earned).getByRole('link', { name: 'Order #7F3A-9B2C' });
    expect(link.getAttribute('href')).toBe('#/orders/o-117f3a9b2c');
    const back = txs.getByText('Earned points taken back (30 of them pending)').closest('tr')!;
    await waitFor(() => expect(within(back).getByRole('link', { name: 'Order #7F3A-9B2C' }).getAttribute('href')).toBe('#/orders/o-117f3a9b2c'));
  });

  it('says when points expire, date by date, and how to earn them', async () => {
    serve(silver);
    renderUI(<PointsCenter user={user} />);
    const expiry = within(await screen.findByRole('region', { name: 'When your points expire' }));
    expect(expiry.getByTestId('next-expiry').textContent).toBe('Next: 1,200 points expire on Dec 30, 2026.');
    const rows = within(expiry.getByRole('table', { name: 'Points by expiry date' })).getAllByRole('row').slice(1).map((r) => r.textContent);
    expect(rows).toEqual(['Dec 30, 20261,200', 'Dec 3, 2027170 (170 pending)']);
    // The 1,200 expire within 90 days; the chart is an image named by them.
    expect(screen.getByRole('img', { name: 'Points expiring in the next 90 days: 1,200 on Dec 30, 2026' })).toBeTruthy();

    const earn = within(screen.getByRole('region', { name: 'How to earn points' }));
    expect((await earn.findByTestId('earn-tier')).textContent).toBe(
      'As a Silver member you earn ×1.25 the points of a purchase. Earn 3,800 more points within 365 days to reach Gold (×1.5).',
    );
    await earn.findByText(/Each point is worth \$0\.01 when you pay with it/);
    earn.getByText('Points expire 365 days after the day you earn them.');
  });

  it('shows the member\'s tier, an accessible bar toward the next and the tiers with their multipliers', async () => {
    serve(silver);
    renderUI(<PointsCenter user={user} />);
    expect((await screen.findByTestId('tier-summary')).textContent).toBe('Silver · 3,800 more points to Gold');
    expect(within(screen.getByRole('region', { name: 'Your tier' })).getByTestId('tier-summary')).toBeTruthy();
    expect(screen.getByTestId('tier-earned').textContent).toBe('1,200 points earned in the last 365 days');
    const bar = screen.getByRole('progressbar', { name: 'Points toward Gold' });
    expect([bar.getAttribute('aria-valuemin'), bar.getAttribute('aria-valuemax'), bar.getAttribute('aria-valuenow')]).toEqual(['0', '5000', '1200']);
    expect(bar.getAttribute('aria-valuetext')).toBe('1,200 of 5,000 points');
    expect(screen.getAllByRole('progressbar')).toHaveLength(1); // the bar's inside is not a second one

    const tiers = within(screen.getByRole('table', { name: 'Tiers' }));
    const rows = tiers.getAllByRole('row').slice(1).map((r) => r.textContent);
    expect(rows).toEqual(['Member0×1', 'Silveryou1,000×1.25', 'Gold5,000×1.5']);
    expect(tiers.getAllByRole('row')[2].getAttribute('aria-current')).toBe('true');
  });

  it('says nothing about tiers when the client has none', async () => {
    const urls = serve({ account_id: 'derick', multiplier: 1, earned: 1370, tiers: [] });
    renderUI(<PointsCenter user={user} />);
    await screen.findByTestId('points-available');
    await waitFor(() => expect(urls).toContain('/points/tier?account_id=derick'));
    await screen.findByRole('table', { name: 'Transactions' });
    await act(() => new Promise((r) => setTimeout(r, 20))); // the standing's answer is in
    expect(screen.queryByRole('region', { name: 'Your tier' })).toBeNull();
    expect(screen.queryByRole('progressbar')).toBeNull();
    expect(screen.queryByTestId('tier-summary')).toBeNull();
    expect(screen.queryByTestId('earn-tier')).toBeNull();
  });
});
