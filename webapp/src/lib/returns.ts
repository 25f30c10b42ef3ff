// Returns and cancellations as the order page shows them: what is left to
// return, whether the person may return it now, what a return gave back in
// plain words, and a refused return's problems at the inputs they concern.
import { ApiError } from './api';
import { formatMoney, parseMoney, sum } from './money';
import type { Order, OrderLine, OrderReturn, ReturnLine } from './types';

// returnNumber is how people see a return: its place in the order (the
// store's id "r2" is the order's second return).
export const returnNumber = (id: string) => id.replace(/^r(?=\d+$)/, '');

// policy is the return policy in a customer's words.
export const policy =
  'A return gives back its share of what you paid: the money and the points you paid with. ' +
  'It takes back its share of the points the order earned; if you have already spent those points, their value is kept from the refund.';

// staffPolicy is the same policy, told to the store's staff.
export const staffPolicy =
  'A return gives back its share of what the customer paid: the money and the points they paid with. ' +
  'It takes back its share of the points the order earned; if the customer has already spent those points, their value is kept from the refund.';

// leftOf is how many of a line may still be returned.
export const leftOf = (l: OrderLine) => Math.max(0, l.quantity - (l.returned ?? 0));

export const unitsBought = (o: Order) => o.lines.reduce((n, l) => n + l.quantity, 0);
export const unitsReturned = (o: Order) => o.lines.reduce((n, l) => n + (l.returned ?? 0), 0);
export const unitsLeft = (o: Order) => o.lines.reduce((n, l) => n + leftOf(l), 0);

export type Returnability = {
  // left: units not returned yet (0 unless the order completed).
  left: number;
  // open: the customer's return window has not closed.
  open: boolean;
  until?: string;
  // allowed: this person may return something now (an admin at any time).
  allowed: boolean;
};

// returnability says whether something of o can be returned now, by an
// admin or by its customer (within the window).
export function returnability(o: Order, admin: boolean, now = Date.now()): Returnability {
  const left = o.status === 'completed' ? unitsLeft(o) : 0;
  const until = o.returnable_until;
  const open = until !== undefined && now <= Date.parse(until);
  return { left, open, until, allowed: left > 0 && (admin || open) };
}

// returnLines are the lines to send for the quantities chosen per product
// (quantities of 0, or not numbers, are left out).
export function returnLines(o: Order, chosen: Record<string, number | string>): ReturnLine[] {
  return o.lines.flatMap((l) => {
    const n = Number(chosen[l.product_id] ?? 0);
    return Number.isInteger(n) && n > 0 ? [{ product_id: l.product_id, quantity: n }] : [];
  });
}

export type ReturnProblems = {
  // byProduct: what is wrong with a line, by its product id.
  byProduct: Record<string, string>;
  reason?: string;
  // rest: what concerns none of the inputs.
  rest: string[];
};

// returnProblems places a refused return's field errors: lines[i].quantity
// names the i-th line sent.
export function returnProblems(err: unknown, sent: ReturnLine[]): ReturnProblems {
  const out: ReturnProblems = { byProduct: {}, rest: [] };
  if (!(err instanceof ApiError)) return out;
  for (const e of err.errors) {
    const m = /^lines\[(\d+)\]/.exec(e.field);
    const line = m ? sent[Number(m[1])] : undefined;
    if (line) out.byProduct[line.product_id] = e.message;
    else if (e.field === 'reason') out.reason = e.message;
    else out.rest.push(e.message);
  }
  return out;
}

export type ReturnTone = 'success' | 'pending' | 'attention';

const points = (n: number) => `${n.toLocaleString('en-US')} point${n === 1 ? '' : 's'}`;

// returnOutcome says what a return gave back, or where it stands: to the
// customer, or (customer: their name) to the store's staff.
export function returnOutcome(r: OrderReturn, customer?: string): { tone: ReturnTone; title: string; text: string } {
  if (customer !== undefined) return staffReturnOutcome(r, customer);
  switch (r.status) {
    case 'completed': {
      const parts = [`We refunded $${formatMoney(parseMoney(r.refunded ?? r.refund))} to your wallet.`];
      if (r.points_restored > 0) parts.push(`${points(r.points_restored)} you paid with ${r.points_restored === 1 ? 'is' : 'are'} back.`);
      if (r.points_reversed > 0) parts.push(`${points(r.points_reversed)} the order earned ${r.points_reversed === 1 ? 'was' : 'were'} taken back.`);
      const unrecovered = r.points_unrecovered ?? 0;
      const kept = parseMoney(r.kept_from_refund ?? 0);
      if (unrecovered > 0 && kept > 0n) {
        parts.push(`You had already spent ${points(unrecovered)} of them, so $${formatMoney(kept)} of their value was kept from the refund.`);
      } else if (unrecovered > 0) {
        parts.push(`You had already spent ${points(unrecovered)} of them; there was no refund to keep their value from.`);
      }
      return { tone: 'success', title: `Return ${returnNumber(r.id)} is done`, text: parts.join(' ') };
    }
    case 'needs_attention':
      return {
        tone: 'attention',
        title: `We are looking into return ${r.id}`,
        text: 'Something went wrong while giving back what you paid. Our support team has been told and will finish it; you do not need to do anything.',
      };
    default:
      return { tone: 'pending', title: `Working on return ${r.id}…`, text: 'This usually takes a moment.' };
  }
}

function staffReturnOutcome(r: OrderReturn, who: string): { tone: ReturnTone; title: string; text: string } {
  switch (r.status) {
    case 'completed': {
      const parts = [`${who} was refunded $${formatMoney(parseMoney(r.refunded ?? r.refund))} to their wallet.`];
      if (r.points_restored > 0) parts.push(`${points(r.points_restored)} they paid with ${r.points_restored === 1 ? 'is' : 'are'} back.`);
      if (r.points_reversed > 0) parts.push(`${points(r.points_reversed)} the order earned ${r.points_reversed === 1 ? 'was' : 'were'} taken back.`);
      const unrecovered = r.points_unrecovered ?? 0;
      const kept = parseMoney(r.kept_from_refund ?? 0);
      if (unrecovered > 0 && kept > 0n) parts.push(`${who} had already spent ${points(unrecovered)} of them, so $${formatMoney(kept)} of their value was kept from the refund.`);
      else if (unrecovered > 0) parts.push(`${who} had already spent ${points(unrecovered)} of them; there was no refund to keep their value from.`);
      return { tone: 'success', title: `Return ${returnNumber(r.id)} is done`, text: parts.join(' ') };
    }
    case 'needs_attention':
      return { tone: 'attention', title: `Return ${returnNumber(r.id)} needs attention`, text: r.failure_reason || 'A step kept failing: run the return again once the cause is fixed.' };
    default:
      return { tone: 'pending', title: `Working on return ${r.id}…`, text: 'This usually takes a moment.' };
  }
}

// totalRefunded is what the order's completed returns refunded.
export const totalRefunded = (o: Order) =>
  sum((o.returns ?? []).filter((r) => r.status === 'completed').map((r) => parseMoney(r.refunded ?? r.refund)));

// pointsTakenBack is how many of the points the order earned its returns
// took back (or are taking back).
export const pointsTakenBack = (o: Order) => (o.returns ?? []).reduce((n, r) => n + r.points_reversed, 0);

// newReturn is the return an answer made: the one not there before, or,
// for a repeat of the same action, the latest.
export function newReturn(o: Order, before: string[]): OrderReturn | undefined {
  const rs = o.returns ?? [];
  return rs.find((r) => !before.includes(r.id)) ?? rs[rs.length - 1];
}
