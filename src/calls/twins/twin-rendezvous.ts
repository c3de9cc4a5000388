import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';

/** How often a waiting decision reads the store for a twin recorded by another instance. */
const STORE_POLL_MS = 20;

/**
 * Where the decision of a call waits for its twin (the other surface's announcement) in this
 * process: the twin's handler announces its arrival here once the store has recorded it. The
 * wait is bounded by its caller; when the application shuts down, every wait ends at once, so
 * a waiting call is decided with what has arrived instead of holding up the drain.
 */
@Injectable()
export class TwinRendezvous implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Calls');
  private readonly waiting = new Map<string, Set<() => void>>();
  private closing = false;

  /** The twin of call `name` was recorded on it: wake whoever waits for it. */
  arrived(name: string): void {
    for (const wake of this.waiting.get(name) ?? []) wake();
  }

  /**
   * Resolves when the twin of call `name` arrives, or after `timeoutMs`, whichever is first.
   * `present` reads the store: the twin may have been recorded before the wait began (it is
   * checked after the waiter is in place, so no arrival is missed in between).
   */
  async awaitTwin(name: string, timeoutMs: number, present: () => Promise<boolean>): Promise<void> {
    if (this.closing || timeoutMs <= 0) return;
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const waiters = this.waiting.get(name) ?? new Set();
    waiters.add(wake);
    this.waiting.set(name, waiters);
    const timer = setTimeout(wake, timeoutMs);
    // The twin may reach another instance sharing the store, which cannot wake this one:
    // the store is looked at again every few milliseconds while the wait lasts.
    let looking = false;
    const poll = setInterval(() => {
      if (looking) return;
      looking = true;
      present().then(
        (found) => {
          looking = false;
          if (found) wake();
        },
        () => (looking = false),
      );
    }, STORE_POLL_MS);
    try {
      if (!(await present())) await woken;
    } finally {
      clearTimeout(timer);
      clearInterval(poll);
      waiters.delete(wake);
      if (waiters.size === 0) this.waiting.delete(name);
    }
  }

  /** How many calls' decisions are waiting for their twin in this process now. */
  get waitingCalls(): number {
    return this.waiting.size;
  }

  beforeApplicationShutdown(): void {
    this.closing = true;
    if (this.waiting.size === 0) return;
    this.logger.log(
      `shutting down: ${this.waiting.size} call(s) waiting for their twin are decided now, with what has arrived`,
    );
    for (const waiters of this.waiting.values()) for (const wake of waiters) wake();
  }
}
