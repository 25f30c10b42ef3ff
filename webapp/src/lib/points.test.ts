import { describe, expect, it } from 'vitest';
import { balanceHistory, balanceWords, describe as words, effect, expiring, maturing, pendingWords } from './points';
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

  it('sums the active points expiring within 30, 60 and 90 days', () => {
    const lots = [lot('2026-12-01', 10), lot('2026-12-22', 20), lot('2027-01-20', 40), lot('2027-03-01', 80), lot('2026-11-01', 5, { status: 'expired' }),
      lot('2026-12-02', 0, { pending: 30, matures_on: '2026-11-30' })]; // pending points are not spendable yet
    expect(expiring(lots, '2026-11-22')).toEqual([
      { within: 30, points: 30 },
      { within: 60, points: 70 },
      { within: 90, points: 70 },
    ]);
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
    expect(words(tx('issue', 65, '2026-12-20'))).toBe('Earned');
    expect(words(tx('issue', 65, '2026-12-20', { matures_on: '2027-01-19' }))).toBe('Earned, pending until Jan 19');
    expect(words(tx('maturity', 170, '2027-01-02'))).toBe('170 points became spendable');
    expect(words(tx('maturity', 1, '2027-01-02'))).toBe('1 point became spendable');
    expect(words(tx('issue_reversal', 65, '2026-12-21', { pending: 65 }))).toBe('Earned points taken back (65 of them pending)');
    expect(words(tx('redemption_reversal', 40, '2026-12-21'))).toBe('Spent points given back');
    expect(words(tx('tier_change', 0, '2026-12-21', { tier: 'silver', reason: '1200 points earned in the last 365 days; silver needs 1000' })))
      .toBe('Moved to silver: 1,200 points earned in the last 365 days; silver needs 1,000');
    expect(words(tx('tier_change', 0, '2026-12-21', { tier: 'member', previous_tier: 'silver' }))).toBe('Moved to member');
  });
});
