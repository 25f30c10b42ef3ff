import { describe, expect, it } from 'vitest';
import {
  balanceHistory, balanceLabel, balanceWords, describe as words, effect, expiringLabel, expiringWithin, expiryByDate, maturing, nextExpiry, noteOf, orderOf,
  pendingWords, storeOrder, worth, worthWords,
} from './points';
import type { Lot, Transaction } from './types';

const tx = (type: Transaction['transaction_type'], amount: number, day: string, extra: Partial<Transaction> = {}): Transaction => ({
  id: `${type}-${day}-${amount}`, account_id: 'derick', seq: 0, transaction_type: type, amount, date_time: `${day}T12:00:00Z`, ...extra,
});

const lot = (expires_on: string, balance: number, extra: Partial<Lot> = {}): Lot => ({
  issued_date: '2025-12-01', balance, last_updated: '2025-12-01T12:00:00Z', issued: balance, expired: 0, expires_on, status: 'active', ...extra,
});

describe('points views', () => {
  it('walks the balance back through time, one point per day', () => {
    expect(balanceHistory(10, [])).toEqual([]);
    // newest first, as the API lists them; today's balance is 150
    const history = balanceHistory(150, [
      tx('issue', 50, '2026-11-21'),
      tx('redeem', 30, '2026-11-21'),
      tx('issue_reversal', 30, '2026-11-20', { unrecovered: 10 }), // 40 reversed, 10 of them already spent
      tx('issue', 160, '2026-11-19'),
    ]);
    expect(history).toEqual([
      { day: '2026-11-18', balance: 0 },
      { day: '2026-11-19', balance: 160 },
      { day: '2026-11-20', balance: 130 },
      { day: '2026-11-21', balance: 150 },
    ]);
  });

  it('counts pending points in the spendable balance only once they mature', () => {
    // newest first; today 170 are spendable, 65 more pending
    const history = balanceHistory(170, [
      tx('issue', 65, '2026-12-20', { matures_on: '2027-01-19' }),
      tx('maturity', 170, '2026-12-19'),
      tx('issue_reversal', 35, '2026-11-25', { pending: 35 }), // a return within the window: nothing spendable moved
      tx('issue', 205, '2026-11-19', { matures_on: '2026-12-19' }),
    ]);
    expect(history).toEqual([
      { day: '2026-11-18', balance: 0 },
      { day: '2026-11-19', balance: 0 },
      { day: '2026-11-25', balance: 0 },
      { day: '2026-12-19', balance: 170 },
      { day: '2026-12-20', balance: 170 },
    ]);
  });

  it('splits what a transaction did between spendable and pending points', () => {
    expect(effect(tx('issue', 65, '2026-12-20'))).toEqual({ spendable: 65, pending: 0 });
    expect(effect(tx('issue', 65, '2026-12-20', { matures_on: '2027-01-19' }))).toEqual({ spendable: 0, pending: 65 });
    expect(effect(tx('maturity', 65, '2027-01-19'))).toEqual({ spendable: 65, pending: -65 });
    // 50 taken back: 30 of them still pending, 20 spendable
    expect(effect(tx('issue_reversal', 50, '2026-12-21', { pending: 30 }))).toEqual({ spendable: -20, pending: -30 });
    expect(effect(tx('redeem', 40, '2026-12-21'))).toEqual({ spendable: -40, pending: 0 });
    expect(effect(tx('tier_change', 0, '2026-12-21', { tier: 'silver' }))).toEqual({ spendable: 0, pending: 0 });
  });

  it('gives the points expiring on each date, soonest first, not a running total', () => {
    const lots = [
      lot('2027-03-01', 80), lot('2026-12-22', 20), lot('2027-01-20', 40),
      lot('2026-12-22', 5, { issued_date: '2025-12-22' }), // two lots of one day: one row
      lot('2026-11-01', 5, { status: 'expired' }),
      lot('2026-11-22', 7), // due today: the sweeper is taking it
      lot('2027-01-20', 0, { pending: 30, matures_on: '2026-12-20' }), // pending points expire with their lot
      lot('2027-02-01', 0), // nothing left
    ];
    const days = expiryByDate(lots, '2026-11-22');
    expect(days).toEqual([
      { on: '2026-12-22', points: 25, pending: 0 },
      { on: '2027-01-20', points: 70, pending: 30 },
      { on: '2027-03-01', points: 80, pending: 0 },
    ]);
    // 90 days from Nov 22 is Feb 20: each day's own points, once.
    expect(expiringWithin(days, '2026-11-22', 90)).toEqual(days.slice(0, 2));
    expect(expiringWithin(days, '2026-11-22', 30)).toEqual(days.slice(0, 1));
    expect(expiringWithin(days, '2026-11-22', 29)).toEqual([]);
    expect(expiringLabel(days.slice(0, 2), 90)).toBe('Points expiring in the next 90 days: 25 on Dec 22, 2026, 70 on Jan 20, 2027');
    expect(expiringLabel([], 90)).toBe('Points expiring in the next 90 days: none');
  });

  it('says when points next expire, in a sentence', () => {
    expect(nextExpiry([])).toBe('You have no points to expire.');
    expect(nextExpiry([{ on: '2027-01-05', points: 1234, pending: 0 }, { on: '2027-02-05', points: 5, pending: 0 }])).toBe('Next: 1,234 points expire on Jan 5, 2027.');
    expect(nextExpiry([{ on: '2027-01-05', points: 1, pending: 0 }])).toBe('Next: 1 point expires on Jan 5, 2027.');
    expect(nextExpiry([{ on: '2027-01-05', points: 100, pending: 65 }])).toBe('Next: 100 points expire on Jan 5, 2027 (65 of them still pending).');
  });

  it('gives the money the points are worth, exactly', () => {
    expect(worth(1234, 0.01)).toBe('12.34');
    expect(worth(3, 0.1)).toBe('0.30'); // not 0.30000000000000004
    expect(worth(123456, '0.05')).toBe('6,172.80');
    expect(worthWords(1234, 0.01)).toBe('1,234 points to spend — worth $12.34');
    expect(worthWords(1, 0.01)).toBe('1 point to spend — worth $0.01');
    expect(worthWords(0, 0.01)).toBe('No points to spend yet');
  });

  it('names the balance chart with where it started, its top and today', () => {
    expect(balanceLabel([])).toBe('Your balance over time: no history yet');
    expect(balanceLabel([{ day: '2026-12-02', balance: 0 }, { day: '2026-12-03', balance: 1234 }])).toBe('Your balance over time: 0 points on Dec 2, 2026, 1,234 points today');
    expect(balanceLabel([{ day: '2026-12-01', balance: 0 }, { day: '2026-12-02', balance: 1500 }, { day: '2026-12-03', balance: 1 }]))
      .toBe('Your balance over time: 0 points on Dec 1, 2026, at most 1,500 points on Dec 2, 2026, 1 point today');
  });

  it('says when pending points become spendable', () => {
    const lots = [
      lot('2027-12-01', 100),
      lot('2027-12-02', 0, { issued: 70, pending: 70, matures_on: '2027-01-20' }),
      lot('2027-12-03', 0, { issued: 100, pending: 100, matures_on: '2027-01-02' }),
      lot('2027-12-04', 0, { issued: 5, pending: 5, matures_on: '2027-01-02' }),
    ];
    expect(maturing(lots)).toEqual([{ on: '2027-01-02', points: 105 }, { on: '2027-01-20', points: 70 }]);
    expect(pendingWords(0, lots)).toBe('');
    expect(pendingWords(175, lots)).toBe('175 pending until Jan 2 to Jan 20');
    expect(pendingWords(170, lots.slice(2, 3))).toBe('170 pending until Jan 2');
    expect(pendingWords(65, [])).toBe('65 pending'); // the lots were not asked for
    expect(balanceWords(1200, 170, lots.slice(2, 3))).toBe('1,200 points to spend · 170 pending until Jan 2');
    expect(balanceWords(1, 0, [])).toBe('1 point to spend');
  });

  it('describes each transaction in plain words', () => {
    const award = { reference: 'order:o-3f9a01c2aa', details: { order_id: 'o-3f9a01c2aa', breakdown: [] } };
    expect(words(tx('issue', 65, '2026-12-20', award))).toBe('Earned on a purchase');
    expect(words(tx('issue', 65, '2026-12-20', { ...award, matures_on: '2027-01-19' }))).toBe('Earned on a purchase, pending until Jan 19');
    expect(words(tx('issue', 1234, '2026-12-20', { reference: 'Welcome gift' }))).toBe('Points added');
    expect(words(tx('redeem', 40, '2026-12-20', { reference: 'order:o-3f9a01c2aa' }))).toBe('Paid for an order');
    expect(words(tx('redeem', 40, '2026-12-20'))).toBe('Points used');
    expect(words(tx('expire', 40, '2026-12-20'))).toBe('Expired');
    expect(words(tx('maturity', 170, '2027-01-02'))).toBe('170 points became spendable');
    expect(words(tx('maturity', 1, '2027-01-02'))).toBe('1 point became spendable');
    expect(words(tx('issue_reversal', 65, '2026-12-21', { pending: 65 }))).toBe('Earned points taken back (65 of them pending)');
    expect(words(tx('redemption_reversal', 40, '2026-12-21'))).toBe('Spent points given back');
    expect(words(tx('tier_change', 0, '2026-12-21', { tier: 'silver', reason: '1200 points earned in the last 365 days; silver needs 1000' })))
      .toBe('Moved to silver: 1,200 points earned in the last 365 days; silver needs 1,000');
    expect(words(tx('tier_change', 0, '2026-12-21', { tier: 'member', previous_tier: 'silver' }))).toBe('Moved to member');
  });

  it('finds the order of a transaction: an award\'s details, a redemption\'s reference, a reversal\'s reversed transaction', () => {
    const award = tx('issue', 65, '2026-12-20', { id: 'a', reference: 'order:o-1', details: { order_id: 'o-1', breakdown: [] } });
    const paid = tx('redeem', 40, '2026-12-20', { id: 'r', reference: 'order:o-2' });
    const back = tx('issue_reversal', 65, '2026-12-21', { reverses: 'a' });
    const gift = tx('issue', 10, '2026-12-20', { reference: 'Welcome gift' });
    const known = new Map([award, paid].map((t) => [t.id, t]));
    expect(orderOf(award)).toBe('o-1');
    expect(orderOf(tx('issue', 65, '2026-12-20', { details: { order_id: 'o-9' } }))).toBe('o-9');
    expect(orderOf(paid)).toBe('o-2');
    expect(orderOf(back, known)).toBe('o-1');
    expect(orderOf(back)).toBeUndefined(); // the reversed transaction is not at hand
    expect(orderOf(gift, known)).toBeUndefined();
    expect(noteOf(gift)).toBe('Welcome gift');
    expect(noteOf(paid)).toBeUndefined();
    expect(storeOrder('o-3f9a01c2aa')).toBe(true);
    expect(storeOrder('42')).toBe(false); // an API client's own order id
  });
});
