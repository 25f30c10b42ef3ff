// How a purchase (or return) saga reads to a customer: its steps in order with a mark
// each, and the outcome in plain words.
import { day } from './format';
import { formatMoney, money } from './money';
import { totalRefunded, unitsBought, unitsReturned } from './returns';
import type { Order, SagaStep } from './types';

export const stepLabels: Record<string, string> = {
  ReserveStock: 'Reserve stock',
  RedeemPoints: 'Redeem points',
  ChargeWallet: 'Charge wallet',
  AwardPoints: 'Award points',
  CompleteOrder: 'Complete order',
  PublishPurchaseCompleted: 'Confirm purchase',
  ReverseAward: 'Take back awarded points',
  RefundWallet: 'Refund wallet',
  RestorePoints: 'Give points back',
  ReleaseStock: 'Release stock',
  FailOrder: 'Close order',
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

// Compensations undo a forward step; the timeline marks them with ↺.
export const compensations = new Set(['ReverseAward', 'RefundWallet', 'RestorePoints', 'ReleaseStock', 'FailOrder', 'MarkNeedsAttention']);

export type StepState = 'running' | 'done' | 'failed' | 'retrying' | 'undone';

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
  return [...items.values()];
}

export const stateMark: Record<StepState, string> = {
  running: '…',
  done: '✓',
  failed: '✗',
  retrying: '⟳',
  undone: '↺',
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
      const back = returned > 0 ? ` You returned ${returned} of the ${bought} unicorns.` : '';
      // A purchase's points stay pending through its return window.
      const until = o.returnable_until && now < Date.parse(o.returnable_until) ? `, spendable once the return window closes on ${day(o.returnable_until)}` : '';
      const earned = o.points_awarded > 0 ? ` You earned ${o.points_awarded.toLocaleString('en-US')} points${until}.` : '';
      const used = o.points_redeemed > 0 ? ` ${o.points_redeemed.toLocaleString('en-US')} points paid $${money(o.points_value)} of it.` : '';
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
