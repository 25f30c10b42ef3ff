import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { renderUI } from '../test/render';
import { day } from '../lib/format';
import { outcome, plainCause, staffOutcome, timeline } from '../lib/saga';
import type { Order, SagaStep } from '../lib/types';
import { SagaTimeline } from './SagaTimeline';

const at = '2026-11-22T10:00:00Z';
const step = (s: string, status: SagaStep['status'], extra: Partial<SagaStep> = {}): SagaStep => ({ step: s, status, at, ...extra });

// A purchase that used points and then found the wallet short.
const walletShort: SagaStep[] = [
  step('ReserveStock', 'started'),
  step('ReserveStock', 'succeeded'),
  step('RedeemPoints', 'started'),
  step('RedeemPoints', 'succeeded'),
  step('ChargeWallet', 'started'),
  step('ChargeWallet', 'failed', { error: 'InsufficientFunds', cause: 'the order costs 2449.90, the wallet holds 1600' }),
  step('RestorePoints', 'started'),
  step('RestorePoints', 'succeeded'),
  step('ReleaseStock', 'started'),
  step('ReleaseStock', 'retrying', { error: 'States.TaskFailed', cause: 'database is locked' }),
  step('ReleaseStock', 'started'),
  step('ReleaseStock', 'succeeded'),
  step('FailOrder', 'started'),
  step('Saga', 'failed'),
];

describe('SagaTimeline', () => {
  it('shows each step once, in order, with its mark', () => {
    renderUI(<SagaTimeline steps={walletShort} />);
    const items = within(screen.getByTestId('saga')).getAllByRole('listitem');
    expect(items.map((li) => [li.dataset.step, li.dataset.state])).toEqual([
      ['ReserveStock', 'done'],
      ['RedeemPoints', 'done'],
      ['ChargeWallet', 'failed'],
      ['RestorePoints', 'undone'],
      ['ReleaseStock', 'undone'],
      ['FailOrder', 'running'],
    ]);
    expect(items[0].textContent).toContain('✓');
    expect(items[2].textContent).toContain('✗');
    // The cause in the page's words: amounts as money.
    expect(items[2].textContent).toContain('The order costs $2,449.90; the wallet holds $1,600.00.');
    expect(items[3].textContent).toContain('↺');
    expect(items[3].textContent).toContain('Give the points back');
    expect(items[4].textContent).toContain('2 tries');
    expect(items[4].textContent).not.toContain('database is locked'); // it recovered
    // No saga jargon.
    expect(screen.getByTestId('saga').textContent).not.toMatch(/compensation|undone/i);
  });

  it('says a compensation for something that never happened had nothing to give back', () => {
    // The wallet was never charged: refunding it gave nothing back.
    renderUI(<SagaTimeline steps={[
      step('ReserveStock', 'started'), step('ReserveStock', 'succeeded'),
      step('ChargeWallet', 'started'), step('ChargeWallet', 'failed', { error: 'InsufficientFunds' }),
      step('RefundWallet', 'started'), step('RefundWallet', 'succeeded'),
      step('ReleaseStock', 'started'), step('ReleaseStock', 'succeeded'),
      step('FailOrder', 'started'), step('FailOrder', 'succeeded'),
    ]} />);
    const items = within(screen.getByTestId('saga')).getAllByRole('listitem');
    expect(items.map((li) => [li.dataset.step, li.dataset.state])).toEqual([
      ['ReserveStock', 'done'], ['ChargeWallet', 'failed'], ['RefundWallet', 'skipped'], ['ReleaseStock', 'undone'], ['FailOrder', 'done'],
    ]);
    expect(items[2].textContent).toMatch(/Refund the wallet.*nothing to give back/);
    expect(items[3].textContent).toMatch(/Put the unicorns back on the shelf.*done/);
  });

  it('says so when nothing ran yet', () => {
    renderUI(<SagaTimeline steps={[]} live />);
    expect(screen.getByText('Starting…')).toBeTruthy();
  });

  it('keeps a step that is retrying visible with its cause', () => {
    const items = timeline([step('ChargeWallet', 'started'), step('ChargeWallet', 'retrying', { cause: 'timeout' })]);
    expect(items).toMatchObject([{ state: 'retrying', cause: 'timeout', attempts: 1 }]);
  });
});

describe('plainCause', () => {
  it.each([
    ['the order costs 2449.90, the wallet holds 1600', 'The order costs $2,449.90; the wallet holds $1,600.00.'],
    ['1500 points asked, 100 available', '1,500 points asked; 100 available.'],
    ['Rainbow Dash X: only 2 left', 'Only 2 Rainbow Dash X left.'],
    ['order o-deadbeef3f9a01c2 completed: it cannot fail', 'order #3F9A-01C2 completed: it cannot fail'],
  ])('%s', (cause, want) => expect(plainCause(cause)).toBe(want));
});

describe('outcome', () => {
  const order = (o: Partial<Order>): Order => ({
    id: 'o-1', user_id: 'derick', client: 'UnicornStore', lines: [], total: 24.49, points_requested: 0, points_redeemed: 0, points_value: 0,
    amount_due: 24.49, charged: 24.49, points_awarded: 0, status: 'completed', attempt: 1, created_at: at, updated_at: at, version: 1, ...o,
  });

  it.each([
    // A failed order spent nothing (points_redeemed 0): the points it asked
    // to pay with are back.
    { o: { status: 'failed', failure_code: 'InsufficientFunds', points_requested: 500, charged: 0 } as const,
      want: 'Not enough money in your wallet: nothing was charged and your points are back.' },
    { o: { status: 'failed', failure_code: 'InsufficientFunds' } as const, want: 'Not enough money in your wallet: nothing was charged.' },
    { o: { status: 'failed', failure_code: 'OutOfStock' } as const, want: 'Not enough of a unicorn in stock: nothing was charged.' },
    { o: { status: 'completed', charged: 23.49, points_redeemed: 100, points_value: 1, points_awarded: 170 } as const,
      want: 'We charged $23.49 to your wallet. 100 points paid $1.00 of it. You earned 170 points.' },
    { o: { status: 'completed', points_awarded: 170 } as const, want: 'We charged $24.49 to your wallet. You earned 170 points.' },
    // Within the return window the points earned are pending.
    { o: { status: 'completed', points_awarded: 170, returnable_until: '2026-12-22T10:00:00Z' } as const,
      want: `We charged $24.49 to your wallet. You earned 170 points, spendable once the return window closes on ${day('2026-12-22T10:00:00Z')}.` },
  ])('$want', ({ o, want }) => {
    expect(outcome(order(o), Date.parse('2026-11-22T10:00:00Z')).text).toBe(want);
  });
});

describe('staffOutcome', () => {
  const order = (o: Partial<Order>): Order => ({
    id: 'o-1', user_id: 'derick', client: 'UnicornStore', lines: [], total: 24.49, points_requested: 0, points_redeemed: 0, points_value: 0,
    amount_due: 24.49, charged: 24.49, points_awarded: 0, status: 'completed', attempt: 1, created_at: at, updated_at: at, version: 1, ...o,
  });
  it('says whose purchase it was, in the third person', () => {
    const o = staffOutcome(order({ points_awarded: 1700 }));
    expect(o.title).toBe("derick's purchase went through");
    expect(o.text).toBe("derick's wallet was charged $24.49. The order earned 1,700 points.");
  });
  it('says why a purchase failed without the customer\'s voice', () => {
    expect(staffOutcome(order({ status: 'failed', failure_code: 'InsufficientFunds', charged: 0 })).text).toBe("The customer's wallet did not hold enough money: nothing was charged.");
  });
});
