// The signed-in customer's wallet and points, shown in the header and
// refreshed after a purchase.
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { get, type User } from './api';
import type { Balance, Settings, Wallet } from './types';

type Account = {
  wallet?: Wallet;
  points?: Balance;
  walletError?: unknown;
  pointsError?: unknown;
  // settings stays undefined when the store could not say what a point is
  // worth: then points cannot pay (a guess could mischarge).
  settings?: Settings;
  refresh: () => Promise<void>;
};

const Ctx = createContext<Account>({ refresh: async () => undefined });

export function AccountProvider({ user, children }: { user: User; children: ReactNode }) {
  const [wallet, setWallet] = useState<Wallet>();
  const [points, setPoints] = useState<Balance>();
  const [walletError, setWalletError] = useState<unknown>();
  const [pointsError, setPointsError] = useState<unknown>();
  const [settings, setSettings] = useState<Settings>();
  const customer = user.role === 'customer';
  const refresh = useCallback(async () => {
    if (!customer) return;
    const [w, p] = await Promise.allSettled([
      get<Wallet>(`/users/${encodeURIComponent(user.username)}/wallet`),
      get<Balance>(`/points?account_id=${encodeURIComponent(user.username)}&limit=1`), // the balance, not the lots
    ]);
    if (w.status === 'fulfilled') setWallet(w.value);
    setWalletError(w.status === 'rejected' ? w.reason : undefined);
    if (p.status === 'fulfilled') setPoints(p.value);
    setPointsError(p.status === 'rejected' ? p.reason : undefined);
  }, [customer, user.username]);
  useEffect(() => {
    void refresh();
    get<Settings>('/settings')
      .then(setSettings)
      .catch(() => setSettings(undefined));
  }, [refresh]);
  return <Ctx.Provider value={{ wallet, points, walletError, pointsError, settings, refresh }}>{children}</Ctx.Provider>;
}

export const useAccount = () => useContext(Ctx);
