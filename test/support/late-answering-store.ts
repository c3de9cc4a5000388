import type { StoreReadiness } from '../../src/common/store/store-health';
import {
  AppendResult,
  EventQuery,
  EventStore,
  NewEvent,
  OpenRun,
  RunKey,
  RunOutcome,
  StoredEvent,
  StoredEventWithRuns,
} from '../../src/webhooks/store/event-store';

/**
 * The real store, answering reads the way a networked one can (the PostgreSQL issue): the query
 * runs at once, but its answer reaches the caller only when the test releases it, and whatever
 * is committed in between is announced as usual. While `holdReads` is off it passes straight
 * through.
 */
export class LateAnsweringStore implements EventStore {
  holdReads = false;
  private readonly held: (() => void)[] = [];

  constructor(readonly inner: EventStore) {}

  /** Reads whose answer is waiting for `release()`. */
  get heldReads(): number {
    return this.held.length;
  }

  /** Lets every held answer through (in the order the reads were made). */
  release(): void {
    for (const answer of this.held.splice(0)) answer();
  }

  headSeq(): Promise<number> {
    return this.answer(this.inner.headSeq());
  }

  list(query: EventQuery): Promise<StoredEvent[]> {
    return this.answer(this.inner.list(query));
  }

  find(id: string): Promise<StoredEventWithRuns | undefined> {
    return this.inner.find(id);
  }

  append(event: NewEvent, handlers: readonly string[]): Promise<AppendResult> {
    return this.inner.append(event, handlers);
  }

  recordAttempt(seq: number, handler: string, outcome: RunOutcome): Promise<void> {
    return this.inner.recordAttempt(seq, handler, outcome);
  }

  resetRuns(seq: number, handlers: readonly string[]): Promise<void> {
    return this.inner.resetRuns(seq, handlers);
  }

  openRuns(): Promise<OpenRun[]> {
    return this.inner.openRuns();
  }

  claimRuns(limit: number): Promise<OpenRun[]> {
    return this.inner.claimRuns(limit);
  }

  renewLeases(runs: readonly RunKey[]): Promise<RunKey[]> {
    return this.inner.renewLeases(runs);
  }

  get runLeaseMs(): number | null {
    return this.inner.runLeaseMs;
  }

  pruneBefore(receivedBefore: number): Promise<number> {
    return this.inner.pruneBefore(receivedBefore);
  }

  subscribe(listener: (event: StoredEvent) => void): () => void {
    return this.inner.subscribe(listener);
  }

  checkReady(): Promise<StoreReadiness> {
    return this.inner.checkReady();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async answer<T>(read: Promise<T>): Promise<T> {
    if (!this.holdReads) return read;
    // The read is made now; only its answer waits.
    const result = await read;
    await new Promise<void>((resolve) => this.held.push(resolve));
    return result;
  }
}
