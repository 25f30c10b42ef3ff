import { useEffect, useState } from 'react';

// Pages live behind the hash (#/store) so that page paths never collide
// with the API's (/orders is both a page and an API path).
export function useRoute(): string[] {
  const [hash, setHash] = useState(() => window.location.hash);
  useEffect(() => {
    const on = () => setHash(window.location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return hash
    .replace(/^#\/?/, '')
    .split('/')
    .filter(Boolean)
    .map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part; // a hand-typed "%" is a name, not an escape
      }
    });
}

export function go(path: string) {
  window.location.hash = path;
}

// Guards of unsaved work: while one is dirty, a move inside the app asks
// first. The listener is registered when this module loads, before any
// router's, so that a stay stops the move before a router sees it (a
// router that saw it would unmount the very editor that asked).
const guards = new Map<symbol, string>();
let here = typeof window !== 'undefined' ? window.location.hash : '';

if (typeof window !== 'undefined') {
  window.addEventListener('hashchange', (e) => {
    const message = [...guards.values()][0];
    if (message === undefined || window.location.hash === here) {
      here = window.location.hash;
      return;
    }
    if (window.confirm(message)) {
      here = window.location.hash;
      return;
    }
    e.stopImmediatePropagation();
    history.replaceState(null, '', here || '#/');
  });
}

// useLeaveGuard asks before the person leaves unsaved work: on a move
// inside the app (a link changes the hash, which cannot be cancelled, so
// the old address is put back when they stay) and on closing or reloading
// the tab (the browser's own question).
export function useLeaveGuard(dirty: boolean, message = 'You have unsaved changes. Leave this page and lose them?') {
  useEffect(() => {
    if (!dirty) return;
    const key = Symbol('guard');
    here = window.location.hash;
    guards.set(key, message);
    const onUnload = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', onUnload);
    return () => {
      guards.delete(key);
      window.removeEventListener('beforeunload', onUnload);
    };
  }, [dirty, message]);
}
