// The cart: lines by product, their sum, and how many points may pay for it.
import { type Money, parseMoney, sum, times } from './money';
import type { Amount } from './types';

// gone: the store no longer sells the product (an admin deleted it); the
// line stays, marked, until the customer removes it, so that nothing leaves
// the cart without them seeing it.
export type CartLine = { productId: string; name: string; price: Amount; quantity: number; stock: number; gone?: boolean };

export type Cart = CartLine[];

export type CartAction =
  | { type: 'add'; product: { id: string; name: string; price: Amount; stock: number }; quantity?: number }
  | { type: 'set'; productId: string; quantity: number }
  | { type: 'remove'; productId: string }
  | { type: 'clear' }
  | { type: 'reprice'; lines: { product_id: string; unit_price: Amount }[] }
  | { type: 'sync'; products: CatalogEntry[] }
  | { type: 'gone'; productIds: string[] };

// CatalogEntry is what the cart reads of a product the store sells today.
export type CatalogEntry = { id: string; name: string; price: Amount; stock: number };

// The API refuses more than this many of one product in an order line.
export const maxQuantity = 1000;

const clamp = (n: number) => Math.max(0, Math.min(maxQuantity, Math.floor(n)));

export function cartReducer(cart: Cart, action: CartAction): Cart {
  switch (action.type) {
    case 'add': {
      const p = action.product;
      const q = action.quantity ?? 1;
      if (cart.some((l) => l.productId === p.id)) {
        return cart.map((l) => (l.productId === p.id ? { ...l, quantity: clamp(l.quantity + q), stock: p.stock } : l));
      }
      return [...cart, { productId: p.id, name: p.name, price: p.price, quantity: clamp(q), stock: p.stock }];
    }
    case 'sync':
      return synced(cart, action.products);
    case 'gone': {
      if (!cart.some((l) => action.productIds.includes(l.productId) && !l.gone)) return cart;
      return cart.map((l) => (action.productIds.includes(l.productId) ? { ...l, gone: true } : l));
    }
    case 'set':
      if (!Number.isFinite(action.quantity) || action.quantity <= 0) return cart.filter((l) => l.productId !== action.productId);
      return cart.map((l) => (l.productId === action.productId ? { ...l, quantity: clamp(action.quantity) } : l));
    case 'remove':
      return cart.filter((l) => l.productId !== action.productId);
    case 'clear':
      return [];
    case 'reprice':
      return repriced(cart, action.lines);
  }
}

export const lineAmount = (l: CartLine): Money => times(parseMoney(l.price), l.quantity);

// The total and the count leave out lines the store no longer sells: they
// cannot be bought.
export const cartTotal = (cart: Cart): Money => sum(cart.filter((l) => !l.gone).map(lineAmount));

export const cartCount = (cart: Cart): number => cart.reduce((n, l) => n + (l.gone ? 0 : l.quantity), 0);

// maxPoints is the most points that may pay for total: no more than the
// balance, and no more than the order is worth (the API refuses points worth
// more than the order).
export function maxPoints(balance: number, total: Money, pointValue: Money): number {
  if (pointValue <= 0n || balance <= 0 || total <= 0n) return 0;
  const affordable = total / pointValue; // BigInt division rounds down
  return Number(affordable < BigInt(balance) ? affordable : BigInt(balance));
}

export type Checkout = { total: Money; points: number; savings: Money; toPay: Money };

// checkout is what the customer pays when they use points (clamped to
// what is allowed).
export function checkout(cart: Cart, balance: number, pointValue: Money, wanted: number): Checkout {
  const total = cartTotal(cart);
  const points = Math.max(0, Math.min(Math.floor(wanted) || 0, maxPoints(balance, total, pointValue)));
  const savings = pointValue * BigInt(points);
  return { total, points, savings, toPay: total - savings };
}

// shortOfStock lists the lines asking for more than the shelf holds (the
// saga would refuse them; the cart warns before checkout).
export const shortOfStock = (cart: Cart): CartLine[] => cart.filter((l) => !l.gone && l.quantity > l.stock);

// goneLines are the lines of products the store no longer sells.
export const goneLines = (cart: Cart): CartLine[] => cart.filter((l) => l.gone);

// synced is the cart against the store's whole catalog as it is now: each
// line takes today's name and stock, and a product the catalog no longer
// has is marked gone. Prices are left alone: a changed price is the
// customer's to see before paying (see priceChanges), never a silent change.
export function synced(cart: Cart, products: CatalogEntry[]): Cart {
  const today = new Map(products.map((p) => [p.id, p]));
  let changed = false;
  const next = cart.map((l) => {
    const p = today.get(l.productId);
    const gone = p === undefined;
    const name = p?.name ?? l.name;
    const stock = p?.stock ?? l.stock;
    if (gone === !!l.gone && name === l.name && stock === l.stock) return l;
    changed = true;
    return { ...l, name, stock, gone: gone || undefined };
  });
  return changed ? next : cart;
}

// priceChanges are the lines whose price in the catalog is not the cart's,
// in the shape the API's price-changed answer has (for the reprice action).
export function priceChanges(cart: Cart, products: CatalogEntry[]): { product_id: string; unit_price: Amount }[] {
  const today = new Map(products.map((p) => [p.id, p]));
  return cart.flatMap((l) => {
    const p = today.get(l.productId);
    return p && parseMoney(p.price) !== parseMoney(l.price) ? [{ product_id: l.productId, unit_price: p.price }] : [];
  });
}

// repriced is the cart with today's prices of the lines an order refused
// for a changed price answered (other lines stay as they are).
export function repriced(cart: Cart, lines: { product_id: string; unit_price: Amount }[]): Cart {
  const today = new Map(lines.map((l) => [l.product_id, l.unit_price]));
  return cart.map((l) => (today.has(l.productId) ? { ...l, price: today.get(l.productId)! } : l));
}
