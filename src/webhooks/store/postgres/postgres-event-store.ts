import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import { PostgresDatabase } from '../../../common/postgres/postgres-database';
import { isStoreFault, storeError } from '../../../common/postgres/postgres-failure';
import { PostgresListener } from '../../../common/postgres/postgres-listener';
import { StoreReadiness, StoreUnavailableError } from '../../../common/store/store-health';
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
} from '../event-store';
// Leases are timed by the database's clock: instances' clocks may disagree.
import { AppendDocument, NOW_MS } from './append-batch.sql';
import { APPEND_BATCH_CALL, APPEND_BATCH_ROUTINE } from './event-routines';
import { EVENT_MIGRATIONS } from './event-migrations';
import { SeqOrderedFeed } from './seq-ordered-feed';
import { EventRow, RunRow, toEvent, toRun } from '../event-rows';

export interface PostgresEventStoreOptions {
  /** `postgres://...`; the schema is the connection's (`?options=-c search_path=...`). */
  url: string;
  /**
   * How long a run stays with the instance that claimed it without a renewal (default 30 s):
   * a dead instance's runs are taken over this long after its last renewal.
   */
  runLeaseMs?: number;
  /** Names this instance in `lease_owner` (default: a random id per process). */
  instanceId?: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
}

/** Writes queued in one turn of the event loop share a transaction (group commit), up to this many. */
const MAX_BATCH = 512;
const DEFAULT_LEASE_MS = 30_000;
const EVENT_COLUMNS = 'e.seq, e.webhook_id, e.event_id, e.type, e.source, e.payload, e.received_at';
const OPEN = `status IN ('pending', 'retrying')`;
/** The notification that runs were handed back (any other payload is a new event's seq). */
const RELEASED = 'released';

type Write =
  | { kind: 'append'; event: NewEvent; handlers: readonly string[] }
  | { kind: 'attempt'; seq: number; handler: string; outcome: RunOutcome }
  | { kind: 'reset'; seq: number; handlers: readonly string[] };

interface QueuedWrite {
  write: Write;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * The event store for several instances on one PostgreSQL database. Same contract as the
 * SQLite store, and across instances: a webhook id is stored once (a unique constraint),
 * sequence numbers follow commit order (see `SeqOrderedFeed`), each instance's `subscribe`
 * hears every instance's events in order, and handler runs are leased to one instance at a time.
 */
export class PostgresEventStore implements EventStore {
  readonly runLeaseMs: number;
  readonly instanceId: string;
  private readonly name = 'event store';
  private queue: QueuedWrite[] = [];
  private flushing?: Promise<void>;
  private flushScheduled = false;
  private closed = false;
  private readonly releaseListeners = new Set<() => void>();

  private constructor(
    private readonly db: PostgresDatabase,
    private readonly feed: SeqOrderedFeed,
    private readonly channel: string,
    options: PostgresEventStoreOptions,
  ) {
    this.runLeaseMs = options.runLeaseMs ?? DEFAULT_LEASE_MS;
    this.instanceId = options.instanceId ?? randomUUID();
  }

  /** Connects, migrates, and starts listening for other instances' events. */
  static async open(options: PostgresEventStoreOptions): Promise<PostgresEventStore> {
    const db = await PostgresDatabase.open({
      url: options.url,
      name: 'event store',
      component: 'events',
      migrations: EVENT_MIGRATIONS,
      routines: [APPEND_BATCH_ROUTINE],
      poolSize: options.poolSize,
    });
    const [{ seq: head }] = await db.query<{ seq: number }>('SELECT seq FROM event_counter');
    const feed = new SeqOrderedFeed((after, limit) => readAfter(db, after, limit), head);
    // Channels are database-wide: the schema's name keeps two schemas' instances apart.
    const channel = `switchboard_events:${db.schema}`.slice(0, 63);
    const store = new PostgresEventStore(db, feed, channel, options);
    const listener: PostgresListener = db.listen(
      channel,
      (payload) => {
        if (payload === RELEASED) return store.announceRelease();
        const { head, from } = noteOf(payload);
        // This instance's own commit: its append announces it (or reads, should it fail).
        if (from !== store.instanceId) feed.wake(head);
      },
      () => feed.wake(),
    );
    await listener.ready;
    return store;
  }

  append(event: NewEvent, handlers: readonly string[]): Promise<AppendResult> {
    return this.enqueue({ kind: 'append', event, handlers });
  }

  async find(id: string): Promise<StoredEventWithRuns | undefined> {
    const seq = /^\d{1,15}$/.test(id) ? Number(id) : null;
    const [row] = await this.db.query<EventRow & { k: number }>(
      `(SELECT 1 AS k, ${EVENT_COLUMNS} FROM events e WHERE e.event_id = $1 ORDER BY e.seq LIMIT 1)
       UNION ALL (SELECT 2, ${EVENT_COLUMNS} FROM events e WHERE e.webhook_id = $1)
       UNION ALL (SELECT 3, ${EVENT_COLUMNS} FROM events e WHERE e.seq = $2)
       ORDER BY k LIMIT 1`,
      [id, seq],
    );
    if (!row) return undefined;
    const runs = await this.db.query<RunRow>(
      `SELECT handler, status, attempts, last_error, next_attempt_at, updated_at
       FROM handler_runs WHERE seq = $1 ORDER BY handler COLLATE "C"`,
      [row.seq],
    );
    return { ...toEvent(row), runs: runs.map(toRun) };
  }

  async list(query: EventQuery): Promise<StoredEvent[]> {
    const params: unknown[] = [query.afterSeq ?? 0, query.limit];
    const where = ['e.seq > $1'];
    if (query.type === '*' || query.type === undefined) {
      // no type filter
    } else if (query.type.endsWith('.*')) {
      // A range on the (type, seq) index (byte order) instead of LIKE, whose `_` is a wildcard.
      const prefix = query.type.slice(0, -1);
      params.push(
        prefix,
        prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1),
      );
      where.push('e.type >= $3 AND e.type < $4');
    } else {
      params.push(query.type);
      where.push('e.type = $3');
    }
    const rows = await this.db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events e WHERE ${where.join(' AND ')} ORDER BY e.seq LIMIT $2`,
      params,
    );
    return rows.map(toEvent);
  }

  recordAttempt(seq: number, handler: string, outcome: RunOutcome): Promise<void> {
    return this.enqueue({ kind: 'attempt', seq, handler, outcome });
  }

  resetRuns(seq: number, handlers: readonly string[]): Promise<void> {
    return this.enqueue({ kind: 'reset', seq, handlers });
  }

  async openRuns(): Promise<OpenRun[]> {
    const rows = await this.db.query<OpenRunRow>(
      `SELECT ${EVENT_COLUMNS}, r.handler, r.attempts, r.next_attempt_at
       FROM handler_runs r JOIN events e ON e.seq = r.seq
       WHERE r.${OPEN} ORDER BY r.seq, r.handler COLLATE "C"`,
    );
    return rows.map(toOpenRun);
  }

  /**
   * Open runs whose lease has passed (their instance died, or let them go), now this
   * instance's. SKIP LOCKED: instances claiming at once each get different runs, none waits.
   */
  async claimRuns(limit: number): Promise<OpenRun[]> {
    const rows = await this.db.query<OpenRunRow>(
      `WITH claimable AS (
         SELECT seq, handler FROM handler_runs
         WHERE ${OPEN} AND (lease_until IS NULL OR lease_until < ${NOW_MS})
         ORDER BY seq, handler LIMIT $1 FOR UPDATE SKIP LOCKED
       ), claimed AS (
         UPDATE handler_runs r SET lease_owner = $2, lease_until = ${NOW_MS} + $3
         FROM claimable c WHERE r.seq = c.seq AND r.handler = c.handler
         RETURNING r.seq, r.handler, r.attempts, r.next_attempt_at
       )
       SELECT ${EVENT_COLUMNS}, c.handler, c.attempts, c.next_attempt_at
       FROM claimed c JOIN events e ON e.seq = c.seq ORDER BY c.seq, c.handler COLLATE "C"`,
      [limit, this.instanceId, this.runLeaseMs],
    );
    return rows.map(toOpenRun);
  }

  async renewLeases(runs: readonly RunKey[]): Promise<RunKey[]> {
    if (runs.length === 0) return [];
    const kept = await this.db.query<{ seq: number; handler: string }>(
      `UPDATE handler_runs r SET lease_until = ${NOW_MS} + $3
       FROM unnest($1::int8[], $2::text[]) AS k(seq, handler)
       WHERE r.seq = k.seq AND r.handler = k.handler AND r.lease_owner = $4 AND r.${OPEN}
       RETURNING r.seq, r.handler`,
      [runs.map((r) => r.seq), runs.map((r) => r.handler), this.runLeaseMs, this.instanceId],
    );
    const held = new Set(kept.map((r) => `${r.seq}\u0000${r.handler}`));
    return runs.filter((r) => !held.has(`${r.seq}\u0000${r.handler}`));
  }

  /** Ends the leases and tells the other instances (`onRunsReleased`) in the same statement. */
  async releaseRuns(runs: readonly RunKey[]): Promise<void> {
    if (runs.length === 0) return;
    await this.db.query(
      `WITH released AS (
         UPDATE handler_runs r SET lease_owner = NULL, lease_until = NULL
         FROM unnest($1::int8[], $2::text[]) AS k(seq, handler)
         WHERE r.seq = k.seq AND r.handler = k.handler AND r.lease_owner = $3 AND r.${OPEN}
         RETURNING 1
       )
       SELECT pg_notify($4, '${RELEASED}') WHERE EXISTS (SELECT 1 FROM released)`,
      [runs.map((r) => r.seq), runs.map((r) => r.handler), this.instanceId, this.channel],
    );
  }

  onRunsReleased(listener: () => void): () => void {
    this.releaseListeners.add(listener);
    return () => this.releaseListeners.delete(listener);
  }

  private announceRelease(): void {
    for (const listener of this.releaseListeners) {
      try {
        listener();
      } catch {
        // a listener's fault is its own
      }
    }
  }

  /** One instance prunes at a time: the others find the lock taken and skip this round. */
  async pruneBefore(receivedBefore: number): Promise<number> {
    return this.db.transaction(async (client) => {
      const { rows } = await client.query<{ locked: boolean }>(
        `SELECT pg_try_advisory_xact_lock(hashtext(current_schema() || '.switchboard.prune-events')) AS locked`,
      );
      if (!rows[0].locked) return 0;
      const result = await client.query('DELETE FROM events WHERE received_at < $1', [
        receivedBefore,
      ]);
      return result.rowCount ?? 0;
    });
  }

  subscribe(listener: (event: StoredEvent) => void): () => void {
    return this.feed.subscribe(listener);
  }

  async headSeq(): Promise<number> {
    const [row] = await this.db.query<{ seq: number }>(
      'SELECT coalesce(max(seq), 0)::int8 AS seq FROM events',
    );
    return row.seq;
  }

  checkReady(): Promise<StoreReadiness> {
    return this.db.checkReady();
  }

  /** Nothing to check at open beyond what `open` did: the server answered and migrated. */
  async checkIntegrity(): Promise<void> {}

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // What was asked for before the close is committed (or fails) first.
    while (this.flushing || this.queue.length > 0) await (this.flushing ?? this.flush());
    this.feed.stop();
    await this.db.close();
  }

  /**
   * Group commit: the writes asked for in one turn of the event loop (and those that arrive while
   * a commit is in flight) go in one transaction, and each caller's promise settles only after it.
   */
  private enqueue<T>(write: Write): Promise<T> {
    if (this.closed) return Promise.reject(new StoreUnavailableError(`the ${this.name} is closed`));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ write, resolve: resolve as (value: unknown) => void, reject });
      if (!this.flushing && !this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          if (!this.flushing) void this.flush();
        });
      }
    });
  }

  private flush(): Promise<void> {
    const batch = this.queue.splice(0, MAX_BATCH);
    if (batch.length === 0) return Promise.resolve();
    this.flushing = this.commitOrSplit(batch).finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) void this.flush();
    });
    return this.flushing;
  }

  /**
   * One transaction for the batch. If it fails for one write's fault (a replay of an event
   * pruned meanwhile), each write is tried alone, so that only its caller fails; a fault of the
   * database fails them all, as StoreUnavailableError (503).
   */
  private async commitOrSplit(batch: QueuedWrite[]): Promise<void> {
    try {
      await this.commit(batch);
      return;
    } catch (error) {
      if (batch.length === 1 || isStoreFault(error)) {
        for (const item of batch) item.reject(storeError(this.name, error));
        return;
      }
    }
    for (const item of batch) {
      try {
        await this.commit([item]);
      } catch (error) {
        item.reject(storeError(this.name, error));
      }
    }
  }

  /**
   * One transaction, in as few round trips as the batch allows. The usual batch (appends and
   * outcomes of runs, each run once, either or both) is one statement (`commitAppends`).
   * Anything else (a replay, two outcomes of one run) has its run writes first, one by one,
   * then the same statement for the appends, and the COMMIT.
   */
  private commit(batch: QueuedWrite[]): Promise<void> {
    const runWrites = batch.flatMap(({ write }) => (write.kind === 'append' ? [] : [write]));
    const outcomes = outcomesOnly(runWrites);
    return outcomes || runWrites.length === 0
      ? this.commitAppends(batch, outcomes ?? [])
      : this.commitAppends(batch, [], runWrites);
  }

  /**
   * The appends of the batch and the outcomes of its runs in one statement
   * (`switchboard_append_batch_v1`, prepared once per connection): on its own, one round trip;
   * after `runsFirst`, in their transaction. Once it has answered, everything is committed:
   * what follows (finding the earlier copy of a duplicate) can fail only the write it is for.
   */
  private async commitAppends(
    batch: QueuedWrite[],
    outcomes: AttemptWrite[],
    runsFirst?: Exclude<Write, { kind: 'append' }>[],
  ): Promise<void> {
    const appends = batch.flatMap((item) =>
      item.write.kind === 'append' ? [{ item, write: item.write }] : [],
    );
    const now = Date.now();
    const document: AppendDocument = {
      events: appends.map(({ write: { event, handlers } }, i) => ({
        ord: i + 1,
        webhook_id: event.webhookId,
        event_id: event.eventId,
        type: event.type,
        source: event.source,
        payload: event.payload,
        received_at: event.receivedAt,
        handlers,
      })),
      outcomes: outcomes.map(({ seq, handler, outcome }) => ({
        seq,
        handler,
        status: outcome.status,
        error: outcome.status === 'done' ? null : outcome.error,
        next_at: outcome.status === 'retrying' ? outcome.nextAttemptAt : null,
      })),
      instance: this.instanceId,
      lease_ms: this.runLeaseMs,
      now,
      channel: this.channel,
    };
    const values = [JSON.stringify(document)];
    let rows: { seq: number; ord: number }[];
    try {
      rows = runsFirst
        ? await this.db.withClient(async (client) => {
            await client.query('BEGIN');
            // Runs first: the counter row is locked from the appends to the commit, so the
            // less done while holding it, the sooner other instances can append.
            await this.writeRuns(client, runsFirst);
            const appended =
              appends.length > 0
                ? (
                    await client.query<{ seq: number; ord: number }>({
                      ...APPEND_BATCH_CALL,
                      values,
                    })
                  ).rows
                : [];
            await client.query('COMMIT');
            return appended;
          })
        : await this.db.prepared<{ seq: number; ord: number }>(APPEND_BATCH_CALL, values);
    } catch (error) {
      // Committed or not (a connection lost on the way): a read tells.
      if (isStoreFault(error)) this.feed.wake();
      throw error;
    }
    const seqByOrd = new Map(rows.map((row) => [Number(row.ord), row.seq]));
    const inserted = appends.flatMap(({ write: { event } }, i) => {
      const seq = seqByOrd.get(i + 1);
      return seq === undefined ? [] : [{ ...event, seq }];
    });
    await this.feed.committed(inserted);
    const stored = new Map(inserted.map((event) => [event.webhookId, event]));
    const missing = appends
      .filter(({ write: { event } }) => !stored.has(event.webhookId))
      .map(({ write: { event } }) => event.webhookId);
    const existing = new Map<string, StoredEvent>();
    let lookupFailure: unknown;
    if (missing.length > 0) {
      try {
        const found = await this.db.query<EventRow>(
          `SELECT ${EVENT_COLUMNS} FROM events e WHERE e.webhook_id = ANY($1::text[])`,
          [missing],
        );
        for (const row of found) existing.set(row.webhook_id, toEvent(row));
      } catch (error) {
        lookupFailure = error;
      }
    }
    appends.forEach(({ item, write: { event } }, i) => {
      const seq = seqByOrd.get(i + 1);
      // A later copy of a webhook id in the batch finds the first one's event.
      const earlier = stored.get(event.webhookId) ?? existing.get(event.webhookId);
      if (seq !== undefined) item.resolve({ inserted: true, event: { ...event, seq } });
      else if (earlier) item.resolve({ inserted: false, event: earlier } satisfies AppendResult);
      else
        item.reject(
          lookupFailure ?? new Error(`webhook id ${event.webhookId} neither inserted nor found`),
        );
    });
    for (const item of batch) if (item.write.kind !== 'append') item.resolve(undefined);
  }

  /** Outcomes and replays, one by one, in their order (see `outcomesOnly` for the usual case). */
  private async writeRuns(
    client: PoolClient,
    writes: Exclude<Write, { kind: 'append' }>[],
  ): Promise<void> {
    for (const write of writes) {
      if (write.kind === 'attempt') await this.writeAttempt(client, write);
      else await this.writeReset(client, write);
    }
  }

  /** Counted only while this instance holds the run: one taken over meanwhile is not touched. */
  private async writeAttempt(client: PoolClient, write: Extract<Write, { kind: 'attempt' }>) {
    const { outcome } = write;
    await client.query(
      `UPDATE handler_runs SET status = $3, attempts = attempts + 1, last_error = $4,
         next_attempt_at = $5, updated_at = $6,
         lease_owner = CASE WHEN $3 = 'retrying' THEN lease_owner END,
         lease_until = CASE WHEN $3 = 'retrying' THEN ${NOW_MS} + $7::int8 END
       WHERE seq = $1 AND handler = $2 AND (lease_owner = $8 OR lease_owner IS NULL)`,
      [
        write.seq,
        write.handler,
        outcome.status,
        outcome.status === 'done' ? null : outcome.error,
        outcome.status === 'retrying' ? outcome.nextAttemptAt : null,
        Date.now(),
        this.runLeaseMs,
        this.instanceId,
      ],
    );
  }

  /** A replay: the runs start again, held by this instance, which runs them at once. */
  private async writeReset(client: PoolClient, write: Extract<Write, { kind: 'reset' }>) {
    if (write.handlers.length === 0) return;
    await client.query(
      `INSERT INTO handler_runs (seq, handler, status, attempts, updated_at, lease_owner, lease_until)
       SELECT $1::int8, h, 'pending', 0, $3::int8, $4::text, ${NOW_MS} + $5::int8 FROM unnest($2::text[]) AS h
       ON CONFLICT (seq, handler) DO UPDATE SET status = 'pending', attempts = 0, last_error = NULL,
         next_attempt_at = NULL, updated_at = excluded.updated_at,
         lease_owner = excluded.lease_owner, lease_until = excluded.lease_until`,
      [write.seq, write.handlers, Date.now(), this.instanceId, this.runLeaseMs],
    );
  }
}

type AttemptWrite = Extract<Write, { kind: 'attempt' }>;

/**
 * The run writes when they are outcomes only, each of a different run (the usual case:
 * handlers finishing), which the batch's one statement records (`commitAppends`); else
 * undefined. Also undefined when there are none.
 */
function outcomesOnly(writes: Exclude<Write, { kind: 'append' }>[]): AttemptWrite[] | undefined {
  if (writes.length === 0) return undefined;
  const attempts = writes.filter((w): w is AttemptWrite => w.kind === 'attempt');
  if (attempts.length !== writes.length) return undefined;
  const distinct = new Set(attempts.map((w) => `${w.seq}\u0000${w.handler}`)).size;
  return distinct === attempts.length ? attempts : undefined;
}

/**
 * What a NOTIFY of new events says: the last number its commit stored, and which instance
 * committed (`<seq>:<instance>`; earlier releases sent the number alone).
 */
function noteOf(payload: string | undefined): { head?: number; from?: string } {
  const match = /^(\d{1,15})(?::(.*))?$/s.exec(payload ?? '');
  return match ? { head: Number(match[1]), from: match[2] } : {};
}

/** Events after `seq`, in order: what the feed reads when it is woken. */
async function readAfter(db: PostgresDatabase, seq: number, limit: number): Promise<StoredEvent[]> {
  const rows = await db.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM events e WHERE e.seq > $1 ORDER BY e.seq LIMIT $2`,
    [seq, limit],
  );
  return rows.map(toEvent);
}

type OpenRunRow = EventRow & { handler: string; attempts: number; next_attempt_at: number | null };

function toOpenRun(row: OpenRunRow): OpenRun {
  return {
    event: toEvent(row),
    handler: row.handler,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
  };
}
