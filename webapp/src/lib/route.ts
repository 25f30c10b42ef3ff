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
