import { describe, expect, it } from 'vitest';
import { ApiError } from './api';
import { newReturn, returnability, returnLines, returnOutcome, returnProblems, totalRefunded, unitsLeft } from './returns';
import { day } from './format';
import { outcome, timeline } from './saga';
import { at, order as anOrder, ret } from '../test/orders';
import type { Order } from './types';

describe('returnability', () => {
  const until = '2026-12-22T10:00:00Z';
  const inWindow = Date.parse('2026-12-01T00:00:00Z');
  const after = Date.parse('2027-01-01T00:00:00Z');
  const order = (o: Partial<Order> = {}) => anOrder({ returnable_until: until, ...o });

  it('lets the customer return what is left within the window, and an admin at any time', () => {
    expect(returnability(order(), false, inWindow)).toMatchObject({ left: 3, open: true, allowed: true });
    expect(returnability(order(), false, after)).toMatchObject({ left: 3, open: false, allowed: false });
    expect(returnability(order(), true, after)).toMatchObject({ left: 3, open: false, allowed: true });
  });

  it('counts what the returns took back, and allows nothing once all is back', () => {
    const some = order({ lines: [{ ...order().lines[0], returned: 1 }, order().lines[1]] });
    expect(unitsLeft(some)).toBe(2);
    const all = order({ lines: order().lines.map((l) => ({ ...l, returned: l.quantity })) });
    expect(returnability(all, true, inWindow)).toMatchObject({ left: 0, allowed: false });
  });

  it('allows nothing for an order that did not complete', () => {
    expect(returnability(order({ status: 'failed', returnable_until: undefined }), true, inWindow)).toMatchObject({ left: 0, allowed: false });
  });
});

describe('returnLines', () => {
  it('sends the lines with a quantity, in the order\'s order', () => {
    expect(returnLines(anOrder(), { 5: 1, 6: '' })).toEqual([{ product_id: '5', quantity: 1 }]);
    expect(returnLines(anOrder(), { 6: 2, 5: 0 })).toEqual([{ product_id: '6', quantity: 2 }]);
    expect(returnLines(anOrder(), {})).toEqual([]);
  });
});

describe('returnProblems', () => {
  it('places lines[i] at the product sent i-th, and the rest apart', () => {
    const err = new ApiError(400, 'Invalid request', 'lines[1].quantity: 0 of 5 are left to return', [
      { field: 'lines[1].quantity', message: '0 of 5 are left to return' },
      { field: 'reason', message: 'a reason has at most 500 characters' },
      { field: 'Idempotency-Key', message: 'too long' },
    ]);
    const sent = [{ product_id: '6', quantity: 1 }, { product_id: '5', quantity: 1 }];
    expect(returnProblems(err, sent)).toEqual({ byProduct: { 5: '0 of 5 are left to return' }, reason: 'a reason has at most 500 characters', rest: ['too long'] });
  });
});

describe('returnOutcome', () => {
  it('tells the store\'s staff what the customer got back, in the third person', () => {
    expect(returnOutcome(ret({ points_restored: 166 }), 'derick').text).toBe(
      'derick was refunded $650.00 to their wallet. 166 points they paid with are back. 65 points the order earned were taken back.',
    );
  });

  it('says what a completed return gave back, in money and points', () => {
    expect(returnOutcome(ret()).text).toBe('We refunded $650.00 to your wallet. 65 points the order earned were taken back.');
    expect(returnOutcome(ret({ refund: 648.33, refunded: 648.33, points_restored: 166, points_reversed: 64 })).text).toBe(
      'We refunded $648.33 to your wallet. 166 points you paid with are back. 64 points the order earned were taken back.',
    );
  });

  it('says the value of earned points already spent was kept from the refund', () => {
    const r = ret({ refunded: 649.5, kept_from_refund: 0.5, points_unrecovered: 50 });
    expect(returnOutcome(r).text).toBe(
      'We refunded $649.50 to your wallet. 65 points the order earned were taken back. You had already spent 50 points of them, so $0.50 of their value was kept from the refund.',
    );
  });

  it('tells a return under way and one that needs support apart', () => {
    expect(returnOutcome(ret({ status: 'pending', refunded: undefined }))).toMatchObject({ tone: 'pending' });
    expect(returnOutcome(ret({ status: 'needs_attention' }))).toMatchObject({ tone: 'attention', title: 'We are looking into return r1' });
  });
});

describe('an order with returns', () => {
  it('finds the return an answer made', () => {
    const o = anOrder({ returns: [ret(), ret({ id: 'r2' })] });
    expect(newReturn(o, ['r1'])?.id).toBe('r2');
    expect(newReturn(o, ['r1', 'r2'])?.id).toBe('r2'); // a repeat of the same action
  });

  it('reads as partly returned, then as all returned with the money given back', () => {
    const partly = anOrder({ lines: [{ ...anOrder().lines[0], returned: 1 }, anOrder().lines[1]], returns: [ret()] });
    expect(outcome(partly).text).toBe(
      `We charged $2,599.50 to your wallet. You earned 259 points, spendable once the return window closes on ${day(partly.returnable_until!)}. You returned 1 of the 3 unicorns.`,
    );
    // Once the window closed, the points are the customer's to spend.
    expect(outcome(partly, Date.parse(partly.returnable_until!) + 1).text).toBe(
      'We charged $2,599.50 to your wallet. You earned 259 points. You returned 1 of the 3 unicorns.',
    );
    const all = anOrder({
      lines: anOrder().lines.map((l) => ({ ...l, returned: l.quantity })),
      returns: [ret(), ret({ id: 'r2', lines: [{ product_id: '6', quantity: 1 }, { product_id: '5', quantity: 1 }], refund: 1949.5, refunded: 1949.5 })],
    });
    expect(totalRefunded(all)).toBe(2_599_500_000n);
    expect(outcome(all)).toMatchObject({ title: 'Everything in this order was returned', text: 'We refunded $2,599.50 to your wallet in all.' });
  });

  it('names the return saga\'s steps in words', () => {
    const steps = ['ReverseReturnAward', 'RestoreReturnPoints', 'RefundReturn', 'RestockReturn', 'CompleteReturn', 'PublishOrderReturned'];
    const items = timeline([...steps.map((step) => ({ step, status: 'succeeded' as const, at })), { step: 'Saga', status: 'succeeded', at }]);
    expect(items.map((i) => [i.label, i.state])).toEqual([
      ['Take back points earned', 'done'],
      ['Give back points paid with', 'done'],
      ['Refund to wallet', 'done'],
      ['Put back in stock', 'done'],
      ['Complete return', 'done'],
      ['Announce return', 'done'],
    ]);
  });
});
