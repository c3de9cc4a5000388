import { CallStore } from '../../src/calls/store/call-store';

/**
 * The real call store, with a meeting point: once armed for N, its next N operations wait until
 * all N have been asked for, then run together. N handlers of one call thus reach the store at
 * the same moment, as they can whenever the store answers asynchronously (a networked store).
 */
export function withMeetingPoint(store: CallStore) {
  let waiting: (() => void)[] = [];
  let expected = 0;
  const releaseAll = () => {
    expected = 0;
    for (const release of waiting.splice(0)) release();
  };
  const meet = () =>
    new Promise<void>((resolve) => {
      waiting.push(resolve);
      if (waiting.length >= expected) releaseAll();
      // Bounded: if fewer ever come, they go on anyway and the test's assertions tell.
      else setTimeout(releaseAll, 5000).unref();
    });
  const proxy = new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (expected > 0) await meet();
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    store: proxy,
    arm: (count: number) => {
      waiting = [];
      expected = count;
    },
  };
}
