// Views of a points account for the points center: the balance through
// time, what expires soon, what is still pending, and each transaction in
// plain words.
import { count, date, shortDate } from './format';
import { formatMoney, parseMoney, times } from './money';
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

export type ExpiryDay = { on: string; points: number; pending: number };

// expiryByDate is what expires on each day, soonest first: each day's own
// points, not a running total (a window that counted every earlier day's
// points again read as twice or three times the points). It counts the
// pending points too (they expire with their lot; pending says how many of
// them are), and leaves out lots due today or before: a lot expiring on D
// is spendable until the day before D, and the sweeper is taking it.
export function expiryByDate(lots: Lot[], today: string): ExpiryDay[] {
  const by = new Map<string, ExpiryDay>();
  for (const l of lots) {
    const points = l.balance + (l.pending ?? 0);
    if (l.status !== 'active' || points <= 0 || l.expires_on <= today) continue;
    const d = by.get(l.expires_on) ?? { on: l.expires_on, points: 0, pending: 0 };
    d.points += points;
    d.pending += l.pending ?? 0;
    by.set(l.expires_on, d);
  }
  return [...by.values()].sort((a, b) => a.on.localeCompare(b.on));
}

// expiringWithin is the days of expiryByDate that fall within so many days
// of today.
export function expiringWithin(days: ExpiryDay[], today: string, within: number): ExpiryDay[] {
  const last = new Date(Date.parse(`${today}T00:00:00Z`) + within * 86_400_000).toISOString().slice(0, 10);
  return days.filter((d) => d.on <= last);
}

const pointsOf = (n: number) => `${count(n)} ${n === 1 ? 'point' : 'points'}`;

// nextExpiry says when points next expire: "Next: 1,234 points expire on
// Jan 5, 2027."
export function nextExpiry(days: ExpiryDay[]): string {
  if (days.length === 0) return 'You have no points to expire.';
  const d = days[0];
  const verb = d.points === 1 ? 'expires' : 'expire';
  return `Next: ${pointsOf(d.points)} ${verb} on ${date(d.on)}${d.pending > 0 ? ` (${count(d.pending)} of them still pending)` : ''}.`;
}

// expiringLabel names the expiring-soon chart for those who cannot see it:
// what expires on each day of the window.
export function expiringLabel(days: ExpiryDay[], within: number): string {
  const head = `Points expiring in the next ${within} days`;
  if (days.length === 0) return `${head}: none`;
  return `${head}: ${days.map((d) => `${count(d.points)} on ${date(d.on)}`).join(', ')}`;
}

// balanceLabel names the balance chart: where it started, its highest and
// today's balance.
export function balanceLabel(history: DayBalance[]): string {
  if (history.length === 0) return 'Your balance over time: no history yet';
  const first = history[0];
  const now = history[history.length - 1];
  const top = history.reduce((m, d) => (d.balance > m.balance ? d : m), first);
  const parts = [`${pointsOf(first.balance)} on ${date(first.day)}`];
  if (top !== first && top !== now) parts.push(`at most ${pointsOf(top.balance)} on ${date(top.day)}`);
  parts.push(`${pointsOf(now.balance)} today`);
  return `Your balance over time: ${parts.join(', ')}`;
}

// worth is the money the points pay for at the store's point value, exact
// (the value's digits times the points, not a float product).
export function worth(points: number, pointValue: number | string): string {
  return formatMoney(times(parseMoney(pointValue), points));
}

// worthWords is the balance with its money value: "1,234 points to spend —
// worth $12.34".
export function worthWords(points: number, pointValue: number | string): string {
  if (points <= 0) return 'No points to spend yet';
  return `${pointsOf(points)} to spend — worth $${worth(points, pointValue)}`;
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

// orderOf is the order a transaction belongs to, by what the Go side
// records: an award's issue carries {"order_id"} in its details and
// "order:<id>" as its reference, a store purchase's redemption the same
// reference; a reversal names the transaction it reverses (byId: the
// transactions at hand, to find that one's order). undefined when none.
export function orderOf(t: Transaction, byId?: ReadonlyMap<string, Transaction>): string | undefined {
  const d = t.details;
  if (d && typeof d === 'object' && 'order_id' in d && typeof d.order_id === 'string' && d.order_id) return d.order_id;
  const m = /^order:(.+)$/.exec(t.reference ?? '');
  if (m) return m[1];
  const reversed = t.reverses ? byId?.get(t.reverses) : undefined;
  return reversed && reversed !== t ? orderOf(reversed) : undefined;
}

// storeOrder says whether an order id is one of this store's orders (the
// customer's orders page has it: "o-" and its hex or uuid), not an order
// id an API client gave with an award.
export const storeOrder = (id: string) => /^o-[0-9a-zA-Z-]+$/.test(id);

// noteOf is a transaction's reference when it names no order: what whoever
// gave or took the points wrote ("Welcome gift").
export const noteOf = (t: Transaction): string | undefined => (t.reference && !/^order:/.test(t.reference) ? t.reference : undefined);

// Digits the server writes bare in a sentence (a tier change's reason)
// read better grouped: 1200 → 1,200.
const grouped = (s: string) => s.replace(/\d{4,}/g, (n) => count(Number(n)));

// describe is what a transaction did, in a customer's words: the points a
// purchase earned or paid, or that the store added or took some.
export function describe(t: Transaction): string {
  const order = orderOf(t) !== undefined;
  switch (t.transaction_type) {
    case 'issue': {
      const what = order ? 'Earned on a purchase' : 'Points added';
      return t.matures_on ? `${what}, pending until ${shortDate(t.matures_on)}` : what;
    }
    case 'redeem':
      return order ? 'Paid for an order' : 'Points used';
    case 'expire':
      return 'Expired';
    case 'maturity':
      return `${pointsOf(t.amount)} became spendable`;
    case 'issue_reversal': {
      const what = 'Earned points taken back';
      return t.pending ? `${what} (${count(t.pending)} of them pending)` : what;
    }
    case 'redemption_reversal':
      return 'Spent points given back';
    case 'tier_change': {
      const to = t.tier ? `Moved to ${t.tier}` : 'Left the tiers';
      return t.reason ? `${to}: ${grouped(t.reason)}` : to;
    }
    default:
      return 'Points changed';
  }
}
