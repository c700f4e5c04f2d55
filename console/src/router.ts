import { useSyncExternalStore } from 'react';

/** Hash routes: static hosting needs no rewrite rule, and a reload keeps the view. */
export type Route =
  | { readonly view: 'overview' }
  | { readonly view: 'deployments' }
  | { readonly view: 'deployment'; readonly id: string }
  | { readonly view: 'environment'; readonly id: string }
  | { readonly view: 'catalog' };

export function routeOf(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [first, id] = parts;
  if (first === 'deployments' && id !== undefined) return { view: 'deployment', id };
  if (first === 'deployments') return { view: 'deployments' };
  if (first === 'environments' && id !== undefined) return { view: 'environment', id };
  if (first === 'catalog') return { view: 'catalog' };
  return { view: 'overview' };
}

export const hrefOf = {
  overview: () => '#/',
  deployments: () => '#/deployments',
  deployment: (id: string) => `#/deployments/${encodeURIComponent(id)}`,
  environment: (id: string) => `#/environments/${encodeURIComponent(id)}`,
  catalog: () => '#/catalog',
};

const subscribe = (notify: () => void) => {
  window.addEventListener('hashchange', notify);
  return () => window.removeEventListener('hashchange', notify);
};

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  return routeOf(hash);
}
