import { useEffect, useState } from 'preact/hooks';

/** The console's own addresses, under /console (the server answers each with the page). */
export const BASE = '/console';

export type Route =
  | { view: 'calls' }
  | { view: 'call'; id: string }
  | { view: 'rules' }
  | { view: 'events'; id?: string };

export function parseRoute(pathname: string): Route {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  const parts = rest.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'calls' && parts[1]) return { view: 'call', id: parts[1] };
  if (parts[0] === 'rules') return { view: 'rules' };
  if (parts[0] === 'events') return { view: 'events', id: parts[1] };
  return { view: 'calls' };
}

export function href(route: Route): string {
  switch (route.view) {
    case 'call':
      return `${BASE}/calls/${encodeURIComponent(route.id)}`;
    case 'rules':
      return `${BASE}/rules`;
    case 'events':
      return `${BASE}/events${route.id ? `/${encodeURIComponent(route.id)}` : ''}`;
    default:
      return `${BASE}/calls`;
  }
}

export function navigate(to: string): void {
  history.pushState(null, '', to);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.pathname));
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  return route;
}

/** Plain clicks on the console's own links stay in the page; others (new tab...) as usual. */
export function onLinkClick(event: MouseEvent): void {
  const anchor = (event.target as Element).closest('a');
  if (
    !anchor ||
    event.defaultPrevented ||
    event.button !== 0 ||
    event.metaKey ||
    event.ctrlKey ||
    event.shiftKey ||
    event.altKey ||
    anchor.target ||
    !anchor.pathname.startsWith(BASE) ||
    anchor.origin !== location.origin
  ) {
    return;
  }
  event.preventDefault();
  navigate(anchor.pathname + anchor.search);
}
