// Orders and returns as the API writes them, for the tests of the pages
// that show them.
import type { Order, OrderReturn } from '../lib/types';

export const at = '2026-11-22T10:00:00Z';

const days = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString();
export const inAMonth = days(30);
export const lastMonth = days(-30);

// order: derick's completed order of two Cloud Striders and a Golden Mane,
// returnable for a month from now.
export const order = (o: Partial<Order> = {}): Order => ({
  id: 'o-1', user_id: 'derick', client: 'UnicornStore',
  lines: [
    { product_id: '6', name: 'Cloud Strider', quantity: 2, unit_price: 650, amount: 1300 },
    { product_id: '5', name: 'Golden Mane', quantity: 1, unit_price: 1299.5, amount: 1299.5 },
  ],
  total: 2599.5, points_requested: 0, points_redeemed: 0, points_value: 0, amount_due: 2599.5, charged: 2599.5, points_awarded: 259,
  status: 'completed', attempt: 1, created_at: at, updated_at: at, version: 3, completed_at: at, returnable_until: inAMonth, ...o,
});

// ret: a completed return of one Cloud Strider.
export const ret = (r: Partial<OrderReturn> = {}): OrderReturn => ({
  id: 'r1', status: 'completed', lines: [{ product_id: '6', quantity: 1 }], value: 650, refund: 650, points_restored: 0, points_reversed: 65,
  refunded: 650, kept_from_refund: 0, by: 'derick', attempt: 1, created_at: at, updated_at: at, ...r,
});
