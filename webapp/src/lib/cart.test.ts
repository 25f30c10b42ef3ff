import { describe, expect, it } from 'vitest';
import { cartCount, cartReducer, cartTotal, checkout, goneLines, maxPoints, priceChanges, shortOfStock, type Cart } from './cart';
import { formatMoney, moneyNumber, parseMoney } from './money';

const rainbow = { id: 'rainbow', name: 'Rainbow', price: '0.10', stock: 3 };
const golden = { id: 'golden', name: 'Golden', price: '0.20', stock: 10 };

function fill(...actions: Parameters<typeof cartReducer>[1][]): Cart {
  return actions.reduce(cartReducer, [] as Cart);
}

describe('cart', () => {
  it('adds to a line instead of repeating it, and sums exactly', () => {
    const cart = fill({ type: 'add', product: rainbow }, { type: 'add', product: golden }, { type: 'add', product: rainbow });
    expect(cart.map((l) => [l.productId, l.quantity])).toEqual([['rainbow', 2], ['golden', 1]]);
    // 2 × 0.10 + 0.20 is 0.40 exactly, not 0.4000000000000001
    expect(formatMoney(cartTotal(cart))).toBe('0.40');
  });

  it('reads prices that arrive as JSON numbers by their digits', () => {
    const cart = fill({ type: 'add', product: { ...rainbow, price: 0.1 } }, { type: 'add', product: { ...golden, price: 0.2 } });
    expect(formatMoney(cartTotal(cart))).toBe('0.30'); // 0.1 + 0.2 in floats is 0.30000000000000004
  });

  it.each([
    { name: 'zero removes the line', quantity: 0, want: [] },
    { name: 'a negative quantity removes the line', quantity: -3, want: [] },
    { name: 'NaN removes the line', quantity: Number.NaN, want: [] },
    { name: 'a fraction is cut to a whole number', quantity: 2.7, want: [['rainbow', 2]] },
    { name: 'more than the API allows is capped', quantity: 5000, want: [['rainbow', 1000]] },
  ])('set: $name', ({ quantity, want }) => {
    const cart = cartReducer(fill({ type: 'add', product: rainbow }), { type: 'set', productId: 'rainbow', quantity });
    expect(cart.map((l) => [l.productId, l.quantity])).toEqual(want);
  });

  it('warns about lines asking for more than the stock', () => {
    const cart = fill({ type: 'add', product: rainbow, quantity: 5 }, { type: 'add', product: golden });
    expect(shortOfStock(cart).map((l) => l.productId)).toEqual(['rainbow']);
  });

  it.each([
    { name: 'the balance limits', balance: 300, total: '50.00', want: 300 },
    { name: 'the order limits', balance: 10_000, total: '12.34', want: 1234 },
    { name: 'a total between two points rounds down', balance: 10_000, total: '0.129', want: 12 },
    { name: 'no balance', balance: 0, total: '5.00', want: 0 },
    { name: 'an empty cart', balance: 50, total: '0', want: 0 },
  ])('max points: $name', ({ balance, total, want }) => {
    expect(maxPoints(balance, parseMoney(total), parseMoney('0.01'))).toBe(want);
  });

  it('charges the total less what the points are worth, never using more than allowed', () => {
    const cart = fill({ type: 'add', product: { ...golden, price: '24.49' }, quantity: 2 });
    const c = checkout(cart, 3300, parseMoney('0.01'), 1000);
    expect([formatMoney(c.total), c.points, formatMoney(c.savings), formatMoney(c.toPay)]).toEqual(['48.98', 1000, '10.00', '38.98']);
    const all = checkout(cart, 10_000, parseMoney('0.01'), 999_999);
    expect([all.points, formatMoney(all.toPay)]).toEqual([4898, '0.00']);
    expect(checkout(cart, 3300, parseMoney('0.01'), -5).points).toBe(0);
  });
});

describe('money', () => {
  it.each([
    ['1700', '1,700.00'],
    ['0.1', '0.10'],
    ['12.345', '12.345'],
    ['-3.5', '-3.50'],
  ])('%s reads as %s', (input, want) => expect(formatMoney(parseMoney(input))).toBe(want));

  it('refuses what is not an amount', () => expect(() => parseMoney('1e3')).toThrow());

  it.each([
    [1e-7, '0.00'],
    [0.1, '0.10'],
    [1299.5, '1,299.50'],
  ])('the JSON number %s reads as %s', (input, want) => expect(formatMoney(parseMoney(input))).toBe(want));
});

describe('reprice', () => {
  it('takes today\'s prices of the lines a refused order names, and keeps the rest', () => {
    let cart: Cart = cartReducer([], { type: 'add', product: rainbow, quantity: 2 });
    cart = cartReducer(cart, { type: 'add', product: { id: 'air', name: 'Air', price: 1700, stock: 4 } });
    cart = cartReducer(cart, { type: 'reprice', lines: [{ product_id: 'air', unit_price: 1799.99 }] });
    expect(formatMoney(cartTotal(cart))).toBe('1,800.19');
    expect(cart.map((l) => l.quantity)).toEqual([2, 1]);
  });

  it.each([
    ['2449.90', 2449.9],
    ['1700', 1700],
    ['0.10', 0.1],
    ['999999999.99', 999999999.99],
  ])('sends %s as the JSON number %s', (m, want) => expect(JSON.stringify(moneyNumber(parseMoney(m)))).toBe(JSON.stringify(want)));
});

describe('sync with the catalog', () => {
  const cart = () => fill({ type: 'add', product: rainbow }, { type: 'add', product: golden, quantity: 2 });

  it('marks a product the store no longer sells, and leaves it out of the total and the count', () => {
    const next = cartReducer(cart(), { type: 'sync', products: [{ ...golden, stock: 4 }] });
    expect(next.map((l) => [l.productId, !!l.gone, l.stock])).toEqual([['rainbow', true, 3], ['golden', false, 4]]);
    expect(formatMoney(cartTotal(next))).toBe('0.40');
    expect(cartCount(next)).toBe(2);
    expect(goneLines(next).map((l) => l.productId)).toEqual(['rainbow']);
    expect(shortOfStock(next)).toEqual([]); // a gone line is not short: it is gone
  });

  it('takes today\'s name and stock but never a price, and keeps the same cart when nothing changed', () => {
    const c = cart();
    expect(cartReducer(c, { type: 'sync', products: [rainbow, golden] })).toBe(c);
    const next = cartReducer(c, { type: 'sync', products: [{ ...rainbow, name: 'Rainbow II', price: '9.99', stock: 1 }, golden] });
    expect(next[0]).toMatchObject({ name: 'Rainbow II', price: '0.10', stock: 1 });
    expect(priceChanges(next, [{ ...rainbow, price: '9.99' }, { ...golden, price: 0.2 }])).toEqual([{ product_id: 'rainbow', unit_price: '9.99' }]);
  });

  it('marks the products a refused purchase named, and brings one back when the store sells it again', () => {
    const gone = cartReducer(cart(), { type: 'gone', productIds: ['golden'] });
    expect(gone.map((l) => !!l.gone)).toEqual([false, true]);
    expect(cartReducer(gone, { type: 'sync', products: [rainbow, golden] }).map((l) => !!l.gone)).toEqual([false, false]);
  });
});
