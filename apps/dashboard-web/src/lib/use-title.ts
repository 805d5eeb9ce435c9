import { useEffect } from 'react';

/** The tab title says which page this is (history, screen readers, many open tabs). */
export function useTitle(title: string) {
  useEffect(() => {
    document.title = `${title} · Fleet dashboard`;
  }, [title]);
}
