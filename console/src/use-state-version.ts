import { useEffect, useState } from 'preact/hooks';
import type { ConsoleState } from './calls-store';

/** Re-renders the component when the shared state changes (at most once a frame). */
export function useStateVersion(state: ConsoleState): number {
  const [version, setVersion] = useState(state.version);
  useEffect(() => state.subscribe(() => setVersion(state.version)), [state]);
  return version;
}

/** The current time, ticking every second while the component is shown. */
export function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}
