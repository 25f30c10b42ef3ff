// The store's catalog as the storefront reads it: the whole list, kept
// fresh (an admin may delete or restock a product while a customer shops),
// the list as the customer sorts and filters it, and why a cart cannot be
// bought now.
import { useEffect } from 'react';
import { type Cart, goneLines, shortOfStock } from './cart';
import { useCart } from './cartStore';
import { count } from './format';
import { formatMoney, type Money, parseMoney } from './money';
import type { Product } from './types';
import { type Loaded, useApi } from './useApi';

// An empty image while a product's own loads or when it has none: the card
// keeps its shape.
export const noImage = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 4 3'/%3E";

// How often an open store looks at the catalog again.
const refreshEvery = 30_000;

// useCatalog loads every product the store sells, again when the customer
// comes back to the tab and every half minute, and keeps the cart in step:
// its lines take today's stock, and a product no longer sold is marked.
export function useCatalog(): Loaded<Product[]> {
  const catalog = useApi<Product[]>('/products');
  const { dispatch } = useCart();
  const { reload, data } = catalog;
  useEffect(() => {
    const again = () => document.visibilityState === 'visible' && reload();
    const timer = setInterval(again, refreshEvery);
    window.addEventListener('focus', again);
    document.addEventListener('visibilitychange', again);
    return () => {
      clearInterval(timer);
      window.removeEventListener('focus', again);
      document.removeEventListener('visibilitychange', again);
    };
  }, [reload]);
  useEffect(() => {
    if (data) dispatch({ type: 'sync', products: data });
  }, [data, dispatch]);
  return catalog;
}

export type SortBy = 'featured' | 'price-asc' | 'price-desc' | 'name';

export const sortLabels: Record<SortBy, string> = {
  featured: 'Featured',
  'price-asc': 'Price: low to high',
  'price-desc': 'Price: high to low',
  name: 'Name: A to Z',
};

// ListView is how the customer asked to see the list: min and max are
// prices ('' when not set).
export type ListView = { sort: SortBy; inStock: boolean; min: number | ''; max: number | '' };

export const defaultView: ListView = { sort: 'featured', inStock: false, min: '', max: '' };

const cmpMoney = (a: Money, b: Money) => (a < b ? -1 : a > b ? 1 : 0);

// listed is the products to show: those found (matches: the ids a search
// found, or undefined for all), in stock if asked, within the price range,
// in the order asked for ("featured" is the store's own order).
export function listed(products: Product[], view: ListView, matches?: Set<string>): Product[] {
  const min = view.min === '' ? undefined : parseMoney(view.min);
  const max = view.max === '' ? undefined : parseMoney(view.max);
  const out = products.filter((p) => {
    if (matches && !matches.has(p.id)) return false;
    if (view.inStock && p.stock <= 0) return false;
    const price = parseMoney(p.price);
    if (min !== undefined && price < min) return false;
    if (max !== undefined && price > max) return false;
    return true;
  });
  switch (view.sort) {
    case 'price-asc':
      return out.sort((a, b) => cmpMoney(parseMoney(a.price), parseMoney(b.price)) || a.name.localeCompare(b.name));
    case 'price-desc':
      return out.sort((a, b) => cmpMoney(parseMoney(b.price), parseMoney(a.price)) || a.name.localeCompare(b.name));
    case 'name':
      return out.sort((a, b) => a.name.localeCompare(b.name, 'en', { sensitivity: 'base' }));
    default:
      return out;
  }
}

// filtered says whether the view hides some products (the empty state then
// offers to show everything).
export const filtered = (view: ListView) => view.inStock || view.min !== '' || view.max !== '';

// blockers are the reasons the cart cannot be bought as it is, in words
// that say what to do: products no longer sold, more than the stock, more
// than the wallet holds (wallet: its balance, undefined when unknown: then
// the store decides).
export function blockers(cart: Cart, toPay: Money, wallet: Money | undefined, canUsePoints: boolean): string[] {
  const out: string[] = [];
  for (const l of goneLines(cart)) out.push(`${l.name} is no longer sold: remove it from the cart.`);
  for (const l of shortOfStock(cart)) {
    out.push(l.stock <= 0 ? `${l.name} is sold out: remove it from the cart.` : `Only ${count(l.stock)} ${l.name} left: lower the quantity.`);
  }
  if (wallet !== undefined && toPay > wallet) {
    const help = canUsePoints ? ' Use more of your points, or take something out of the cart.' : ' Take something out of the cart.';
    out.push(`Your wallet has $${formatMoney(wallet)}: $${formatMoney(toPay - wallet)} short of the $${formatMoney(toPay)} to pay.${help}`);
  }
  return out;
}
