import Database, { Statement } from 'better-sqlite3';
import { openSqliteStore } from '../../common/sqlite/open-sqlite-store';
import {
  DEFAULT_INTEGRITY_CHECK_BUDGET_MS,
  SqliteStoreHealth,
} from '../../common/sqlite/sqlite-store-health';
import { GroupCommit } from '../../common/sqlite/group-commit';
import { checkpointerFor } from '../../common/sqlite/wal-checkpointer';
import { WalSync } from '../../common/sqlite/wal-sync';
import { StoreReadiness } from '../../common/store/store-health';
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
} from './event-store';
import { applySynchronous, readSynchronous, SqliteSynchronous } from './sqlite-synchronous';
import { EventRow, RunRow, toEvent, toRun } from './event-rows';

export type { SqliteSynchronous };

export interface SqliteEventStoreOptions {
  /** A file path, or `:memory:` for tests that need no durability. */
  filename: string;
  /**
   * `full` (default): fsync at every commit, so an acknowledged event survives a power loss;
   * with group commit this costs little. `normal`: a commit survives a crash or kill of the
   * process, but the last commits can be lost if the machine itself goes down.
   */
  synchronous?: SqliteSynchronous;
  /**
   * How long `checkIntegrity()` waits for `PRAGMA quick_check` (default 5000 ms); a larger store
   * starts while the check goes on in the background.
   */
  integrityCheckBudgetMs?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  webhook_id TEXT NOT NULL UNIQUE,
  event_id TEXT NOT NULL,
  type TEXT NOT NULL,
  source TEXT NOT NULL,
  payload TEXT NOT NULL,
  received_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_event_id ON events (event_id);
CREATE INDEX IF NOT EXISTS events_type_seq ON events (type, seq);
CREATE INDEX IF NOT EXISTS events_received_at ON events (received_at);
CREATE TABLE IF NOT EXISTS handler_runs (
  seq INTEGER NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
  handler TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  next_attempt_at INTEGER,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (seq, handler)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS handler_runs_open ON handler_runs (status) WHERE status IN ('pending', 'retrying');
`;

const EVENT_COLUMNS = 'e.seq, e.webhook_id, e.event_id, e.type, e.source, e.payload, e.received_at';

/** The embedded default store: one SQLite file in WAL mode under `DATA_DIR`. */
export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly health: SqliteStoreHealth;
  private readonly integrityCheckBudgetMs: number;
  private readonly statements: {
    insertEvent: Statement;
    insertRun: Statement;
    bySeq: Statement;
    byWebhookId: Statement;
    byEventId: Statement;
    runsOf: Statement;
    recordAttempt: Statement;
    resetRun: Statement;
    openRuns: Statement;
    prune: Statement;
  };
  private readonly appendOne: (event: NewEvent, handlers: readonly string[]) => AppendResult;
  private readonly listeners = new Set<(event: StoredEvent) => void>();
  /** Events inserted by the transaction being committed; announced once it is durable. */
  private committing: StoredEvent[] = [];
  private readonly writes: GroupCommit<StoredEvent[]>;
  /** Syncs the log before commits are acknowledged (`full`); none under `normal`. */
  private readonly wal: WalSync | undefined;
  /**
   * The last sequence number whose commit is durable. Reads for the stream and `GET /events`
   * stop there: a commit is visible to this connection before its sync returns, and should the
   * machine lose power meanwhile, its number would be given again to another event, which a
   * client that had seen the first would skip.
   */
  private durableSeq = 0;
  /** Whether `claimRuns` has handed out the open runs: after that, this process holds them all. */
  private claimed = false;
  /** One process alone opens the file (SQLite's lock): runs never pass to another. */
  readonly runLeaseMs = null;

  /** Opens or creates the file; a store that cannot be used throws `StoreOpenError` naming it. */
  constructor(options: SqliteEventStoreOptions) {
    let wal: WalSync | undefined;
    this.db = openSqliteStore('event store', options.filename, (db) => {
      db.pragma('journal_mode = WAL');
      wal = applySynchronous(db, options.filename, options.synchronous);
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      // Fewer, larger checkpoints: a page written by many commits is copied back once.
      db.pragma('wal_autocheckpoint = 10000');
      db.exec(SCHEMA);
    });
    this.wal = wal;
    this.health = new SqliteStoreHealth(this.db, 'event store', options.filename);
    this.writes = new GroupCommit(
      this.db,
      this.health,
      {
        // Events are announced once durable, in commit order; a rolled-back batch announces none.
        sealed: () => {
          const committed = this.committing;
          this.committing = [];
          return committed;
        },
        durable: (committed) => {
          for (const event of committed) {
            this.durableSeq = Math.max(this.durableSeq, event.seq);
            this.announce(event);
          }
        },
        rolledBack: () => {
          this.committing = [];
        },
      },
      { wal, checkpointer: checkpointerFor(options.filename, 'event store', this.db) },
    );
    // What an earlier process committed is made durable before this one counts on it.
    this.wal?.syncAtOpen();
    this.durableSeq = this.maxSeq();
    this.integrityCheckBudgetMs =
      options.integrityCheckBudgetMs ?? DEFAULT_INTEGRITY_CHECK_BUDGET_MS;

    this.statements = {
      insertEvent: this.db.prepare(
        `INSERT INTO events (webhook_id, event_id, type, source, payload, received_at)
         VALUES (@webhookId, @eventId, @type, @source, @payload, @receivedAt)
         ON CONFLICT (webhook_id) DO NOTHING RETURNING seq`,
      ),
      insertRun: this.db.prepare(
        `INSERT INTO handler_runs (seq, handler, status, attempts, updated_at) VALUES (?, ?, 'pending', 0, ?)`,
      ),
      bySeq: this.db.prepare(`SELECT ${EVENT_COLUMNS} FROM events e WHERE e.seq = ?`),
      byWebhookId: this.db.prepare(`SELECT ${EVENT_COLUMNS} FROM events e WHERE e.webhook_id = ?`),
      byEventId: this.db.prepare(
        `SELECT ${EVENT_COLUMNS} FROM events e WHERE e.event_id = ? ORDER BY e.seq LIMIT 1`,
      ),
      runsOf: this.db.prepare(
        `SELECT handler, status, attempts, last_error, next_attempt_at, updated_at
         FROM handler_runs WHERE seq = ? ORDER BY handler`,
      ),
      recordAttempt: this.db.prepare(
        `UPDATE handler_runs SET status = @status, attempts = attempts + 1, last_error = @error,
           next_attempt_at = @nextAttemptAt, updated_at = @now
         WHERE seq = @seq AND handler = @handler`,
      ),
      resetRun: this.db.prepare(
        `INSERT INTO handler_runs (seq, handler, status, attempts, updated_at) VALUES (?, ?, 'pending', 0, ?)
         ON CONFLICT (seq, handler) DO UPDATE SET status = 'pending', attempts = 0, last_error = NULL,
           next_attempt_at = NULL, updated_at = excluded.updated_at`,
      ),
      openRuns: this.db.prepare(
        `SELECT ${EVENT_COLUMNS}, r.handler, r.attempts, r.next_attempt_at
         FROM handler_runs r JOIN events e ON e.seq = r.seq
         WHERE r.status IN ('pending', 'retrying') ORDER BY r.seq, r.handler`,
      ),
      prune: this.db.prepare(`DELETE FROM events WHERE received_at < ?`),
    };

    this.appendOne = (event: NewEvent, handlers: readonly string[]): AppendResult => {
      const inserted = this.statements.insertEvent.get(event) as { seq: number } | undefined;
      if (!inserted) {
        const existing = this.statements.byWebhookId.get(event.webhookId) as EventRow;
        return { inserted: false, event: toEvent(existing) };
      }
      for (const handler of handlers) {
        this.statements.insertRun.run(inserted.seq, handler, event.receivedAt);
      }
      const stored = { ...event, seq: inserted.seq };
      this.committing.push(stored);
      return { inserted: true, event: stored };
    };
  }

  append(event: NewEvent, handlers: readonly string[]): Promise<AppendResult> {
    return this.write(() => this.appendOne(event, handlers));
  }

  async find(id: string): Promise<StoredEventWithRuns | undefined> {
    return this.health.read(() => {
      const row = (this.statements.byEventId.get(id) ??
        this.statements.byWebhookId.get(id) ??
        (/^\d{1,15}$/.test(id) ? this.statements.bySeq.get(Number(id)) : undefined)) as
        EventRow | undefined;
      if (!row) return undefined;
      const runs = (this.statements.runsOf.all(row.seq) as RunRow[]).map(toRun);
      return { ...toEvent(row), runs };
    });
  }

  async list(query: EventQuery): Promise<StoredEvent[]> {
    const where: string[] = ['e.seq > @afterSeq', 'e.seq <= @durableSeq'];
    const params: Record<string, unknown> = {
      afterSeq: query.afterSeq ?? 0,
      durableSeq: this.durableSeq,
      limit: query.limit,
    };
    if (query.type === '*' || query.type === undefined) {
      // no type filter
    } else if (query.type.endsWith('.*')) {
      // Range on the (type, seq) index instead of LIKE, whose `_` would be a wildcard.
      where.push('e.type >= @low AND e.type < @high');
      const prefix = query.type.slice(0, -1);
      params.low = prefix;
      params.high =
        prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    } else {
      where.push('e.type = @type');
      params.type = query.type;
    }
    const rows = this.health.read(
      () =>
        this.db
          .prepare(
            `SELECT ${EVENT_COLUMNS} FROM events e WHERE ${where.join(' AND ')} ORDER BY e.seq LIMIT @limit`,
          )
          .all(params) as EventRow[],
    );
    return rows.map(toEvent);
  }

  recordAttempt(seq: number, handler: string, outcome: RunOutcome): Promise<void> {
    return this.write(() => {
      this.statements.recordAttempt.run({
        seq,
        handler,
        status: outcome.status,
        error: outcome.status === 'done' ? null : outcome.error,
        nextAttemptAt: outcome.status === 'retrying' ? outcome.nextAttemptAt : null,
        now: Date.now(),
      });
    });
  }

  resetRuns(seq: number, handlers: readonly string[]): Promise<void> {
    return this.write(() => {
      const now = Date.now();
      for (const handler of handlers) this.statements.resetRun.run(seq, handler, now);
    });
  }

  async openRuns(): Promise<OpenRun[]> {
    const rows = this.health.read(() => this.statements.openRuns.all()) as (EventRow & {
      handler: string;
      attempts: number;
      next_attempt_at: number | null;
    })[];
    return rows.map((row) => ({
      event: toEvent(row),
      handler: row.handler,
      attempts: row.attempts,
      nextAttemptAt: row.next_attempt_at,
    }));
  }

  /** Every open run at the first call (what an earlier process left), none after. */
  async claimRuns(limit: number): Promise<OpenRun[]> {
    if (this.claimed) return [];
    this.claimed = true;
    return (await this.openRuns()).slice(0, limit);
  }

  /** Nothing to renew: this process holds every run until it ends. */
  async renewLeases(_runs: readonly RunKey[]): Promise<RunKey[]> {
    return [];
  }

  async pruneBefore(receivedBefore: number): Promise<number> {
    return this.health.write(() => this.statements.prune.run(receivedBefore).changes);
  }

  subscribe(listener: (event: StoredEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async headSeq(): Promise<number> {
    return Math.min(this.maxSeq(), this.durableSeq);
  }

  private maxSeq(): number {
    const row = this.health.read(() =>
      this.db.prepare('SELECT max(seq) AS seq FROM events').get(),
    ) as {
      seq: number | null;
    };
    return row.seq ?? 0;
  }

  private announce(event: StoredEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own; the store and the other listeners go on.
      }
    }
  }

  async checkReady(): Promise<StoreReadiness> {
    return this.health.checkReady();
  }

  /**
   * `PRAGMA quick_check`, bounded by `integrityCheckBudgetMs`: damage found in time throws
   * `StoreOpenError` naming the file; damage found later makes `checkReady()` say so.
   */
  checkIntegrity(): Promise<void> {
    return this.health.checkIntegrity(this.integrityCheckBudgetMs);
  }

  /** The durability in force on the store's connection, as SQLite reports it. */
  synchronousMode(): ReturnType<typeof readSynchronous> {
    return readSynchronous(this.db, this.wal);
  }

  async close(): Promise<void> {
    this.health.stop();
    if (this.db.open) this.writes.flush();
    await this.writes.close();
    if (this.db.open) this.db.close();
  }

  private write<T>(run: () => T): Promise<T> {
    return this.writes.write(run);
  }
}
