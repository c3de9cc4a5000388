import { Logger } from '@nestjs/common';
import { StoredEvent } from '../event-store';

/** Events read per query while catching up. */
const PAGE = 500;
/** After a failed read, the next try comes this much later (a notification may come sooner). */
const RETRY_MS = 1000;

/**
 * Announces every event committed to the shared store, by any instance, to this process's
 * listeners, each once, in sequence order. It relies on one property of the store: sequence
 * numbers are handed out in commit order (the counter row is locked until commit), so the
 * committed events are always every number up to some N, less the pruned. Reading "after the
 * last announced" therefore never skips an event that a slower transaction commits later.
 *
 * It is woken by this instance's own commits (announced at once when nothing is missing before
 * them) and by other instances' NOTIFY; each wake reads what follows the last announced event.
 */
export class SeqOrderedFeed {
  private readonly logger = new Logger('EventFeed');
  private readonly listeners = new Set<(event: StoredEvent) => void>();
  private reading = false;
  private again = false;
  private stopped = false;
  private retry?: NodeJS.Timeout;
  private waiters: { seq: number; resolve: () => void }[] = [];

  constructor(
    private readonly readAfter: (seq: number, limit: number) => Promise<StoredEvent[]>,
    /** The newest event when the feed starts: only what commits after it is announced. */
    private announced: number,
  ) {}

  subscribe(listener: (event: StoredEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * This instance committed these events (consecutive numbers, in order). Resolves once they
   * have been announced: at once when nothing is missing before them, else after a read.
   */
  committed(events: readonly StoredEvent[]): Promise<void> {
    if (events.length === 0 || this.stopped) return Promise.resolve();
    const last = events[events.length - 1].seq;
    if (!this.reading && events[0].seq === this.announced + 1) {
      for (const event of events) this.announce(event);
      return Promise.resolve();
    }
    if (last <= this.announced) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.waiters.push({ seq: last, resolve }));
    this.wake();
    return done;
  }

  /**
   * Another instance committed up to `head` (its NOTIFY), or the LISTEN connection came back
   * (`head` unknown): read what follows the last announced event. With no listener there is
   * nobody to read for: the feed moves to `head` without reading.
   */
  wake(head?: number): void {
    if (this.stopped) return;
    // This instance's own NOTIFY (or an older one): its events are announced already. Reading
    // for it would only make the next commit wait for the read.
    if (head !== undefined && head <= this.announced) return;
    if (this.listeners.size === 0 && head !== undefined && !this.reading) {
      this.announced = Math.max(this.announced, head);
      this.settleWaiters();
      return;
    }
    if (this.reading) {
      this.again = true;
      return;
    }
    void this.read();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
  }

  private async read(): Promise<void> {
    this.reading = true;
    try {
      do {
        this.again = false;
        for (;;) {
          const page = await this.readAfter(this.announced, PAGE);
          if (this.stopped) return;
          for (const event of page) if (event.seq > this.announced) this.announce(event);
          this.settleWaiters();
          if (page.length < PAGE) break;
        }
      } while (this.again && !this.stopped);
    } catch (error) {
      // The events are committed: their appends are answered, and the read is tried again.
      this.logger.error(`reading new events failed, trying again: ${(error as Error).message}`);
      for (const waiter of this.waiters.splice(0)) waiter.resolve();
      clearTimeout(this.retry);
      this.retry = setTimeout(() => this.wake(), RETRY_MS);
      this.retry.unref();
    } finally {
      this.reading = false;
    }
  }

  private announce(event: StoredEvent): void {
    this.announced = event.seq;
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own; the feed and the other listeners go on.
      }
    }
  }

  private settleWaiters(): void {
    if (this.waiters.length === 0) return;
    const still: typeof this.waiters = [];
    for (const waiter of this.waiters) {
      if (waiter.seq <= this.announced) waiter.resolve();
      else still.push(waiter);
    }
    this.waiters = still;
  }
}
