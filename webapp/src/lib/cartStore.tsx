// The customer's cart outlives the store page: it is kept per user for the
// tab's session, so visiting orders or points (or reloading) keeps it.
import { createContext, useContext, useEffect, useReducer, type ReactNode } from 'react';
import { cartReducer, type Cart, type CartAction } from './cart';

type CartState = { cart: Cart; dispatch: (a: CartAction) => void };

const Ctx = createContext<CartState>({ cart: [], dispatch: () => undefined });

function restore(key: string): Cart {
  try {
    const raw = sessionStorage.getItem(key);
    const cart = raw ? (JSON.parse(raw) as Cart) : [];
    return Array.isArray(cart) ? cart : [];
  } catch {
    return [];
  }
}

export function CartProvider({ username, children }: { username: string; children: ReactNode }) {
  const key = `unicorn.cart.${username}`;
  const [cart, dispatch] = useReducer(cartReducer, key, restore);
  useEffect(() => {
    if (cart.length > 0) sessionStorage.setItem(key, JSON.stringify(cart));
    else sessionStorage.removeItem(key);
  }, [cart, key]);
  return <Ctx.Provider value={{ cart, dispatch }}>{children}</Ctx.Provider>;
}

export const useCart = () => useContext(Ctx);
