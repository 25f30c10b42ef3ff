import { useEffect, useRef, useState } from 'react';

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

// useLeaveGuard asks before the person leaves unsaved work: on a move
// inside the app (a link changes the hash, which cannot be cancelled, so
// the old address is put back when they stay) and on closing or reloading
// the tab (the browser's own question).
export function useLeaveGuard(dirty: boolean, message = 'You have unsaved changes. Leave this page and lose them?') {
  const last = useRef(window.location.hash);
  useEffect(() => {
    last.current = window.location.hash;
    if (!dirty) return;
    const onHash = (e: HashChangeEvent) => {
      if (window.location.hash === last.current) return;
      if (window.confirm(message)) {
        last.current = window.location.hash;
        return;
      }
      // The router may have seen the move already: put the address back and
      // tell it again, in the same task, so React renders only where the
      // person stays.
      history.replaceState(null, '', new URL(e.oldURL).hash || '#/');
      window.dispatchEvent(new HashChangeEvent('hashchange', { oldURL: e.newURL, newURL: e.oldURL }));
    };
    const onUnload = (e: BeforeUnloadEvent) => {
      e.preventDefault();
    };
    window.addEventListener('hashchange', onHash);
    window.addEventListener('beforeunload', onUnload);
    return () => {
      window.removeEventListener('hashchange', onHash);
      window.removeEventListener('beforeunload', onUnload);
    };
  }, [dirty, message]);
}
