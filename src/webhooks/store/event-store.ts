import type { StoreReadiness } from '../../common/store/store-health';

export type { StoreReadiness };

/** Where an event came from: OpenAI's webhook, or Switchboard itself (call lifecycle, ...). */
export type EventSource = 'openai' | 'switchboard';

export interface NewEvent {
  /** Deduplication key: the `webhook-id` header, or a generated id for our own events. */
  webhookId: string;
  eventId: string;
  type: string;
  source: EventSource;
  /** The body exactly as it arrived (OpenAI) or as we serialised it (our own events). */
  payload: string;
  receivedAt: number;
}

export interface StoredEvent extends NewEvent {
  /** Monotonically increasing across both sources: the stream resumes from it. */
  seq: number;
}

export type HandlerRunStatus = 'pending' | 'retrying' | 'done' | 'failed';

export interface HandlerRun {
  handler: string;
  status: HandlerRunStatus;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: number | null;
  updatedAt: number;
}

export interface StoredEventWithRuns extends StoredEvent {
  runs: HandlerRun[];
}

export type AppendResult =
  { inserted: true; event: StoredEvent } | { inserted: false; event: StoredEvent };

export interface EventQuery {
  /** Exact type, or a prefix wildcard such as `batch.*`. */
  type?: string;
  /** Only events with a greater sequence number (the cursor). */
  afterSeq?: number;
  limit: number;
}

export interface OpenRun {
  event: StoredEvent;
  handler: string;
  attempts: number;
  nextAttemptAt: number | null;
}

export type RunOutcome =
  | { status: 'done' }
  | { status: 'retrying'; error: string; nextAttemptAt: number }
  | { status: 'failed'; error: string };

/**
 * The durable record of every event and of each handler's progress on it. SQLite is the
 * default; the methods are async so that a networked store can implement the same contract.
 */
export interface EventStore {
  /**
   * Writes the event and a pending run per handler in one transaction, unless an event with
   * the same `webhookId` exists: then nothing is written and the earlier event is returned.
   */
  append(event: NewEvent, handlers: readonly string[]): Promise<AppendResult>;
  /** By event id (`evt_...`), webhook id, or sequence number. */
  find(id: string): Promise<StoredEventWithRuns | undefined>;
  list(query: EventQuery): Promise<StoredEvent[]>;
  /** Records one attempt's outcome and counts the attempt. */
  recordAttempt(seq: number, handler: string, outcome: RunOutcome): Promise<void>;
  /** Sets the given handlers' runs back to pending with no attempts (a replay). */
  resetRuns(seq: number, handlers: readonly string[]): Promise<void>;
  /** Runs that have not finished: picked up again after a restart. */
  openRuns(): Promise<OpenRun[]>;
  /** Forgets events received before the cutoff; returns how many. */
  pruneBefore(receivedBefore: number): Promise<number>;
  /**
   * Calls `listener` with every newly stored event once its commit is durable, in sequence
   * order, in this process. Returns the function that stops the calls. The live stream is built
   * on it: a subscriber that reads the store after subscribing misses nothing.
   */
  subscribe(listener: (event: StoredEvent) => void): () => void;
  /** The highest sequence number stored so far (0 when empty). */
  headSeq(): Promise<number>;
  /**
   * Readiness: whether a write can be made now, and if not, why (the last write failed and no
   * write has succeeded since, the file is corrupt, another process holds the lock). A store
   * whose last write failed probes with a write of its own, so that it can become ready again
   * without traffic. Operations that fail because of the store itself (not one bad write) throw
   * `StoreUnavailableError`, which is answered 503.
   */
  checkReady(): Promise<StoreReadiness>;
  close(): Promise<void>;
}

export const EVENT_STORE = Symbol('EVENT_STORE');
