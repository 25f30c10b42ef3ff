// Views of a points account for the points center: the balance through
// time, and what expires soon.
import type { Lot, Transaction } from './types';

// delta is how a transaction changed the available balance.
export function delta(t: Transaction): number {
  switch (t.transaction_type) {
    case 'issue':
    case 'redemption_reversal':
      return t.amount;
    case 'issue_reversal':
      return -t.amount; // what was taken back; the unrecovered rest never left the balance
    default: // redeem, expire
      return -t.amount;
  }
}

export type DayBalance = { day: string; balance: number };

// balanceHistory walks back from today's balance through the transactions
// (newest first, as the API lists them) and gives the balance at the end of
// each day that had one, oldest first, starting the day before the oldest
// with what the account held then.
export function balanceHistory(current: number, txs: Transaction[]): DayBalance[] {
  const out: DayBalance[] = [];
  let balance = current;
  for (const t of txs) {
    const day = t.date_time.slice(0, 10);
    if (out.length === 0 || out[out.length - 1].day !== day) out.push({ day, balance });
    balance -= delta(t);
  }
  if (out.length > 0) {
    const before = new Date(Date.parse(`${out[out.length - 1].day}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    out.push({ day: before, balance });
  }
  return out.reverse();
}

export type Expiring = { within: number; points: number };

// expiring sums the points of active lots that expire within each window
// (a lot expiring on D is spendable until the day before D).
export function expiring(lots: Lot[], today: string, windows = [30, 60, 90]): Expiring[] {
  const start = Date.parse(`${today}T00:00:00Z`);
  return windows.map((within) => ({
    within,
    points: lots
      .filter((l) => l.status === 'active' && l.balance > 0)
      .filter((l) => (Date.parse(`${l.expires_on}T00:00:00Z`) - start) / 86_400_000 <= within)
      .reduce((n, l) => n + l.balance, 0),
  }));
}

export const typeWords: Record<string, string> = {
  issue: 'Earned',
  redeem: 'Spent',
  expire: 'Expired',
  issue_reversal: 'Earned points taken back',
  redemption_reversal: 'Spent points given back',
};
