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

/** One handler's run on one event. */
export interface RunKey {
  seq: number;
  handler: string;
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
  /**
   * Records one attempt's outcome and counts the attempt. `done` and `failed` let the run go;
   * `retrying` keeps it held. A run another instance has taken over is left as that one has it.
   */
  recordAttempt(seq: number, handler: string, outcome: RunOutcome): Promise<void>;
  /** Sets the given handlers' runs back to pending with no attempts (a replay), held by the caller. */
  resetRuns(seq: number, handlers: readonly string[]): Promise<void>;
  /** Runs that have not finished, whoever holds them. */
  openRuns(): Promise<OpenRun[]>;
  /**
   * Handler runs are held by one instance at a time. The runs that `append` and `resetRuns`
   * write are held by the instance that wrote them; `claimRuns` takes open runs that nobody
   * holds any more: their holder died, or lost them (its lease passed without renewal), or
   * could not record their outcome. A claimed run is the caller's to run (at its
   * `nextAttemptAt`) and to renew. A store that one process alone can open (SQLite) hands every
   * open run to the first call and none after: that process holds every run.
   */
  claimRuns(limit: number): Promise<OpenRun[]>;
  /**
   * Extends the leases of runs this instance holds and returns those it no longer holds
   * (another instance took them over after the lease passed): their retries must not run here.
   */
  renewLeases(runs: readonly RunKey[]): Promise<RunKey[]>;
  /**
   * Lets go of runs this instance holds and will not run (it is shutting down): their leases
   * end now, so another instance claims them at its next look instead of after the lease.
   * A store that one process owns has nobody to hand them to and leaves it out.
   */
  releaseRuns?(runs: readonly RunKey[]): Promise<void>;
  /** Calls `listener` when any instance has released runs (`releaseRuns`): time to claim them. */
  onRunsReleased?(listener: () => void): () => void;
  /**
   * How long a held run stays held without renewal; the dispatcher renews well within it and
   * claims what others left as often. `null`: runs never pass between processes.
   */
  readonly runLeaseMs: number | null;
  /** Forgets events received before the cutoff; returns how many. */
  pruneBefore(receivedBefore: number): Promise<number>;
  /**
   * Calls `listener` with every newly stored event once its commit is durable, in sequence
   * order, in this process: with a store shared by several instances, every instance's events.
   * An event this instance appends is announced before its `append` resolves. Returns the function that stops the calls. The live stream is built
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
