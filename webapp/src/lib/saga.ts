// How a purchase (or return) saga reads to a customer: its steps in order with a mark
// each, and the outcome in plain words.
import { count, day, orderNumber } from './format';
import { formatMoney, money } from './money';
import { totalRefunded, unitsBought, unitsReturned } from './returns';
import type { Order, SagaStep } from './types';

// Each step in plain words: what it does, said the same to the customer
// and to support.
export const stepLabels: Record<string, string> = {
  ReserveStock: 'Set the unicorns aside',
  RedeemPoints: 'Pay with the points',
  ChargeWallet: 'Charge the wallet',
  AwardPoints: 'Add the points earned',
  CompleteOrder: 'Complete the order',
  PublishPurchaseCompleted: 'Confirm the purchase',
  ReverseAward: 'Take back the points earned',
  RefundWallet: 'Refund the wallet',
  RestorePoints: 'Give the points back',
  ReleaseStock: 'Put the unicorns back on the shelf',
  FailOrder: 'Close the order',
  MarkNeedsAttention: 'Hand over to support',
  // The return saga: each step gives something back, and runs forward.
  ReverseReturnAward: 'Take back points earned',
  RestoreReturnPoints: 'Give back points paid with',
  RefundReturn: 'Refund to wallet',
  RestockReturn: 'Put back in stock',
  CompleteReturn: 'Complete return',
  PublishOrderReturned: 'Announce return',
  MarkReturnNeedsAttention: 'Hand over to support',
};

// undoes names the step each compensation gives back: when that step never
// took anything (it failed, or never ran), the compensation had nothing to
// give back, whatever it recorded.
export const undoes: Record<string, string> = {
  ReverseAward: 'AwardPoints',
  RefundWallet: 'ChargeWallet',
  RestorePoints: 'RedeemPoints',
  ReleaseStock: 'ReserveStock',
};

// Compensations undo a forward step; the timeline marks them with ↺.
// Closing a failed order (or handing it over) undoes nothing: it is a step
// like the others.
export const compensations = new Set(Object.keys(undoes));

export type StepState = 'running' | 'done' | 'failed' | 'retrying' | 'undone' | 'skipped';

export type TimelineItem = {
  step: string;
  label: string;
  state: StepState;
  compensation: boolean;
  at: string;
  error?: string;
  cause?: string;
  attempts: number;
};

// timeline folds the saga's history (a step may start, retry and fail
// several times) into one item per step, in the order the steps began.
export function timeline(steps: SagaStep[] = []): TimelineItem[] {
  const items = new Map<string, TimelineItem>();
  for (const s of steps) {
    if (s.step === 'Saga') continue; // the execution's own end, not a step
    let it = items.get(s.step);
    if (!it) {
      it = { step: s.step, label: stepLabels[s.step] ?? s.step, state: 'running', compensation: compensations.has(s.step), at: s.at, attempts: 0 };
      items.set(s.step, it);
    }
    switch (s.status) {
      case 'started':
        it.attempts++;
        it.state = 'running';
        break;
      case 'succeeded':
        it.state = it.compensation ? 'undone' : 'done';
        it.error = undefined;
        it.cause = undefined;
        break;
      case 'retrying':
        it.state = 'retrying';
        it.error = s.error;
        it.cause = s.cause;
        break;
      case 'failed':
      case 'caught':
        it.state = 'failed';
        it.error = s.error || it.error;
        it.cause = s.cause || it.cause;
        break;
    }
    it.at = s.at;
  }
  // A compensation whose forward step took nothing gave nothing back.
  for (const it of items.values()) {
    const forward = undoes[it.step] && items.get(undoes[it.step]);
    if (it.compensation && it.state === 'undone' && (!forward || forward.state !== 'done')) it.state = 'skipped';
  }
  return [...items.values()].map((it) => (it.cause ? { ...it, cause: plainCause(it.cause) } : it));
}

const amount = (s: string) => `$${money(s)}`;

// plainCause rewrites what a step recorded as its cause in the words of
// the page: amounts as money, counts grouped, orders by their number.
export function plainCause(cause: string): string {
  let m = /^the order costs ([\d.]+), the wallet holds ([\d.]+)$/.exec(cause);
  if (m) return `The order costs ${amount(m[1])}; the wallet holds ${amount(m[2])}.`;
  m = /^(\d+) points asked, (\d+) available$/.exec(cause);
  if (m) return `${count(Number(m[1]))} points asked; ${count(Number(m[2]))} available.`;
  m = /^(.+): only (\d+) left$/.exec(cause);
  if (m) return `Only ${count(Number(m[2]))} ${m[1]} left.`;
  return cause.replace(/\bo-[0-9a-zA-Z]{8,}\b/g, (id) => orderNumber(id));
}

export const stateMark: Record<StepState, string> = {
  running: '…',
  done: '✓',
  failed: '✗',
  retrying: '⟳',
  undone: '↺',
  skipped: '–',
};

const reasons: Record<string, string> = {
  OutOfStock: 'Not enough of a unicorn in stock',
  InsufficientPoints: 'You no longer have the points you chose to use',
  InsufficientFunds: 'Not enough money in your wallet',
  ReservationExpired: 'The order took too long and the stock held for it was released',
  OrderClosed: 'The order was already closed',
};

// toneColor is the colour an outcome is shown in.
export const toneColor: Record<Outcome['tone'], string> = { success: 'teal', failure: 'red', attention: 'orange', pending: 'blue' };

export type Outcome = { tone: 'success' | 'failure' | 'pending' | 'attention'; title: string; text: string };

// outcome says what happened to an order in words a customer understands.
export function outcome(o: Order, now = Date.now()): Outcome {
  switch (o.status) {
    case 'completed': {
      const bought = unitsBought(o);
      const returned = unitsReturned(o);
      if (bought > 0 && returned >= bought) {
        const done = (o.returns ?? []).every((r) => r.status === 'completed');
        return {
          tone: 'success',
          title: 'Everything in this order was returned',
          text: done
            ? `We refunded $${formatMoney(totalRefunded(o))} to your wallet in all.`
            : 'The returns below show how giving back what you paid is going.',
        };
      }
      const back = returned > 0 ? ` You returned ${count(returned)} of the ${count(bought)} unicorns.` : '';
      // A purchase's points stay pending through its return window.
      const until = o.returnable_until && now < Date.parse(o.returnable_until) ? `, spendable once the return window closes on ${day(o.returnable_until)}` : '';
      const earned = o.points_awarded > 0 ? ` You earned ${count(o.points_awarded)} points${until}.` : '';
      const used = o.points_redeemed > 0 ? ` ${count(o.points_redeemed)} points paid $${money(o.points_value)} of it.` : '';
      return { tone: 'success', title: 'Thank you! Your unicorns are on their way', text: `We charged $${money(o.charged)} to your wallet.${used}${earned}${back}` };
    }
    case 'failed': {
      const reason = reasons[o.failure_code ?? ''] ?? 'The purchase could not be completed';
      const back = o.points_requested > 0 ? ' and your points are back' : '';
      return { tone: 'failure', title: 'The purchase did not go through', text: `${reason}: nothing was charged${back}.` };
    }
    case 'needs_attention':
      return {
        tone: 'attention',
        title: 'We are looking into your order',
        text: 'Something went wrong while undoing the purchase. Our support team has been told and will set it right; you do not need to do anything.',
      };
    default:
      return { tone: 'pending', title: 'Working on your order…', text: 'This usually takes a moment.' };
  }
}

const staffReasons: Record<string, string> = {
  OutOfStock: 'Not enough of a unicorn was in stock',
  InsufficientPoints: 'The customer no longer had the points they chose to use',
  InsufficientFunds: 'The customer\'s wallet did not hold enough money',
  ReservationExpired: 'The order took too long and the stock held for it was released',
  OrderClosed: 'The order was already closed',
};

// staffOutcome says what happened to an order to the store's staff: whose
// it is, in the third person, with the failure's own words when there are
// some.
export function staffOutcome(o: Order, now = Date.now()): Outcome {
  const who = o.user_id;
  switch (o.status) {
    case 'completed': {
      const bought = unitsBought(o);
      const returned = unitsReturned(o);
      if (bought > 0 && returned >= bought) {
        const done = (o.returns ?? []).every((r) => r.status === 'completed');
        return {
          tone: 'success',
          title: 'Everything in this order was returned',
          text: done ? `${who} was refunded $${formatMoney(totalRefunded(o))} in all.` : 'The returns below show how giving back what was paid is going.',
        };
      }
      const back = returned > 0 ? ` ${who} returned ${count(returned)} of the ${count(bought)} unicorns.` : '';
      const until = o.returnable_until && now < Date.parse(o.returnable_until) ? `, pending until the return window closes on ${day(o.returnable_until)}` : '';
      const earned = o.points_awarded > 0 ? ` The order earned ${count(o.points_awarded)} points${until}.` : '';
      const used = o.points_redeemed > 0 ? ` ${count(o.points_redeemed)} points paid $${money(o.points_value)} of it.` : '';
      return { tone: 'success', title: `${who}'s purchase went through`, text: `${who}'s wallet was charged $${money(o.charged)}.${used}${earned}${back}` };
    }
    case 'failed': {
      const reason = staffReasons[o.failure_code ?? ''] ?? 'The purchase could not be completed';
      const back = o.points_requested > 0 ? ' and the points are back' : '';
      return { tone: 'failure', title: 'The purchase did not go through', text: `${reason}: nothing was charged${back}.` };
    }
    case 'needs_attention':
      return {
        tone: 'attention',
        title: 'This order needs attention',
        text: `${o.failure_reason ? `${plainCause(o.failure_reason)} ` : ''}A step kept failing while the purchase was undone: run the order again once the cause is fixed.`,
      };
    default:
      return { tone: 'pending', title: 'The order is in progress…', text: 'Its steps are running.' };
  }
}
