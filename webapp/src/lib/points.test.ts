import { describe, expect, it } from 'vitest';
import { balanceHistory, expiring } from './points';
import type { Lot, Transaction } from './types';

const tx = (type: Transaction['transaction_type'], amount: number, day: string, extra: Partial<Transaction> = {}): Transaction => ({
  id: `${type}-${day}-${amount}`, account_id: 'derick', seq: 0, transaction_type: type, amount, date_time: `${day}T12:00:00Z`, ...extra,
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

  it('sums the active points expiring within 30, 60 and 90 days', () => {
    const lot = (expires_on: string, balance: number, status: Lot['status'] = 'active'): Lot => ({
      issued_date: '2025-12-01', balance, last_updated: '2025-12-01T12:00:00Z', issued: balance, expired: 0, expires_on, status,
    });
    const lots = [lot('2026-12-01', 10), lot('2026-12-22', 20), lot('2027-01-20', 40), lot('2027-03-01', 80), lot('2026-11-01', 5, 'expired')];
    expect(expiring(lots, '2026-11-22')).toEqual([
      { within: 30, points: 30 },
      { within: 60, points: 70 },
      { within: 90, points: 70 },
    ]);
  });
});
