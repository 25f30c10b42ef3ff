// Views of a points account for the points center: the balance through
// time, what expires soon, what is still pending, and each transaction in
// plain words.
import { count, shortDate } from './format';
import type { Lot, Transaction } from './types';

// Effect is how a transaction changed the points one can spend now, and
// the pending ones (earned by a purchase still within its return window).
export type Effect = { spendable: number; pending: number };

export function effect(t: Transaction): Effect {
  switch (t.transaction_type) {
    case 'issue':
      return t.matures_on ? { spendable: 0, pending: t.amount } : { spendable: t.amount, pending: 0 };
    case 'maturity':
      return { spendable: t.amount, pending: -t.amount };
    case 'issue_reversal': {
      // What was taken back: first the issue's pending points, then
      // spendable ones; the unrecovered rest never left the balance.
      const pending = t.pending ?? 0;
      return { spendable: -(t.amount - pending), pending: -pending };
    }
    case 'redemption_reversal':
      return { spendable: t.amount, pending: 0 };
    case 'tier_change':
      return { spendable: 0, pending: 0 };
    default: // redeem, expire
      return { spendable: -t.amount, pending: 0 };
  }
}

// delta is how a transaction changed the spendable balance.
export const delta = (t: Transaction): number => effect(t).spendable;

export type DayBalance = { day: string; balance: number };

// balanceHistory walks back from today's spendable balance through the
// transactions (newest first, as the API lists them) and gives the balance
// at the end of each day that had one, oldest first, starting the day
// before the oldest with what the account held then.
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

// expiring sums the spendable points of active lots that expire within
// each window (a lot expiring on D is spendable until the day before D).
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

export type Maturing = { on: string; points: number };

// maturing is when the lots' pending points become spendable, soonest
// first, the lots of one day together.
export function maturing(lots: Lot[]): Maturing[] {
  const by = new Map<string, number>();
  for (const l of lots) {
    if (l.pending && l.matures_on) by.set(l.matures_on, (by.get(l.matures_on) ?? 0) + l.pending);
  }
  return [...by].map(([on, points]) => ({ on, points })).sort((a, b) => a.on.localeCompare(b.on));
}

// pendingWords says how many points are pending and until when: one day,
// or the first and last of several ("" when none are).
export function pendingWords(pending: number, lots: Lot[]): string {
  if (pending <= 0) return '';
  const days = maturing(lots);
  if (days.length === 0) return `${count(pending)} pending`;
  const first = shortDate(days[0].on);
  if (days.length === 1) return `${count(pending)} pending until ${first}`;
  return `${count(pending)} pending until ${first} to ${shortDate(days[days.length - 1].on)}`;
}

// balanceWords is the account's balance in a sentence: "1,200 points to
// spend · 170 pending until Jan 2".
export function balanceWords(balance: number, pending: number, lots: Lot[]): string {
  const spend = `${count(balance)} ${balance === 1 ? 'point' : 'points'} to spend`;
  const later = pendingWords(pending, lots);
  return later ? `${spend} · ${later}` : spend;
}

const words: Record<string, string> = {
  issue: 'Earned',
  redeem: 'Spent',
  expire: 'Expired',
  issue_reversal: 'Earned points taken back',
  redemption_reversal: 'Spent points given back',
};

// Digits the server writes bare in a sentence (a tier change's reason)
// read better grouped: 1200 → 1,200.
const grouped = (s: string) => s.replace(/\d{4,}/g, (n) => count(Number(n)));

// describe is what a transaction did, in a customer's words.
export function describe(t: Transaction): string {
  switch (t.transaction_type) {
    case 'issue':
      return t.matures_on ? `Earned, pending until ${shortDate(t.matures_on)}` : words.issue;
    case 'maturity':
      return `${count(t.amount)} ${t.amount === 1 ? 'point' : 'points'} became spendable`;
    case 'issue_reversal':
      return t.pending ? `${words.issue_reversal} (${count(t.pending)} of them pending)` : words.issue_reversal;
    case 'tier_change': {
      const to = t.tier ? `Moved to ${t.tier}` : 'Left the tiers';
      return t.reason ? `${to}: ${grouped(t.reason)}` : to;
    }
    default:
      return words[t.transaction_type] ?? t.transaction_type;
  }
}
