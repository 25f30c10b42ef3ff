import { describe, expect, it } from 'vitest';
import { cartReducer, type Cart } from './cart';
import { blockers, defaultView, filtered, listed } from './catalog';
import { parseMoney } from './money';
import type { Product } from './types';

const at = '2026-11-22T10:00:00Z';
const p = (id: string, name: string, price: number, stock: number): Product => ({ id, name, description: '', image: '', price, stock, version: 1, updated_at: at });
const products = [p('1', 'Unicorn Air', 1700, 4), p('2', 'pink Pony', 899.99, 0), p('3', 'Midnight', 2450, 3), p('4', 'Cloud', 650, 20)];
const names = (ps: Product[]) => ps.map((x) => x.name);

describe('listed', () => {
  it('keeps the store\'s order by default, and sorts by price either way or by name (ignoring case)', () => {
    expect(names(listed(products, defaultView))).toEqual(['Unicorn Air', 'pink Pony', 'Midnight', 'Cloud']);
    expect(names(listed(products, { ...defaultView, sort: 'price-asc' }))).toEqual(['Cloud', 'pink Pony', 'Unicorn Air', 'Midnight']);
    expect(names(listed(products, { ...defaultView, sort: 'price-desc' }))).toEqual(['Midnight', 'Unicorn Air', 'pink Pony', 'Cloud']);
    expect(names(listed(products, { ...defaultView, sort: 'name' }))).toEqual(['Cloud', 'Midnight', 'pink Pony', 'Unicorn Air']);
  });

  it('filters by stock, by a price range (both ends included) and by what a search found', () => {
    expect(names(listed(products, { ...defaultView, inStock: true }))).toEqual(['Unicorn Air', 'Midnight', 'Cloud']);
    expect(names(listed(products, { ...defaultView, min: 650, max: 1700 }))).toEqual(['Unicorn Air', 'pink Pony', 'Cloud']);
    expect(names(listed(products, defaultView, new Set(['3', '4'])))).toEqual(['Midnight', 'Cloud']);
    expect(filtered(defaultView)).toBe(false);
    expect(filtered({ ...defaultView, max: 10 })).toBe(true);
  });
});

describe('blockers', () => {
  const cart = (...lines: [Product, number][]): Cart => lines.reduce((c, [x, q]) => cartReducer(c, { type: 'add', product: x, quantity: q }), [] as Cart);

  it('says nothing for a cart the store and the wallet can serve', () => {
    expect(blockers(cart([products[3], 2]), parseMoney('1300'), parseMoney('3300'), false)).toEqual([]);
    // An unknown wallet is the store's to judge.
    expect(blockers(cart([products[3], 2]), parseMoney('1300'), undefined, false)).toEqual([]);
  });

  it('names each reason in words that say what to do, with amounts as money', () => {
    let c = cart([products[0], 5], [products[1], 1], [products[3], 1]);
    c = cartReducer(c, { type: 'gone', productIds: ['4'] });
    expect(blockers(c, parseMoney('9399.99'), parseMoney('3300'), true)).toEqual([
      'Cloud is no longer sold: remove it from the cart.',
      'Only 4 Unicorn Air left: lower the quantity.',
      'pink Pony is sold out: remove it from the cart.',
      'Your wallet has $3,300.00: $6,099.99 short of the $9,399.99 to pay. Use more of your points, or take something out of the cart.',
    ]);
  });
});
