import { useEffect } from 'react';

// useDocumentTitle names the browser tab (and what a screen reader says
// when the page changes) after what the page shows.
export function useDocumentTitle(title: string | undefined) {
  useEffect(() => {
    if (title) document.title = `${title} · Unicorn Store`;
  }, [title]);
}
