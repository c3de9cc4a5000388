import type Database from 'better-sqlite3';
import { SqliteStoreHealth } from './sqlite-store-health';
import { WalCheckpointer } from './wal-checkpointer';
import { WalSync } from './wal-sync';

interface QueuedWrite {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Writes queued in one turn of the event loop share a transaction, up to this many. */
const MAX_BATCH = 512;

/**
 * What a store does around each commit of a batch (the event store announces its events):
 * `sealed` right after the transaction commits, returning what the batch staged; `durable`
 * with that once the commit is on disk. Batches become durable in commit order.
 */
export interface GroupCommitHooks<Staged = unknown> {
  sealed?: () => Staged;
  durable?: (staged: Staged) => void;
  /** The batch rolled back: whatever it staged is gone. */
  rolledBack?: () => void;
}

/**
 * Group commit for one SQLite connection: every write asked for in a turn of the event loop
 * runs in one transaction, and each caller's promise settles only after that commit is
 * durable: when `wal` is given (the default durability), after the WAL's fsync on the thread
 * pool (see `WalSync`), during which the event loop goes on with other work; without it, at
 * the connection's own `synchronous` level (`normal`: no fsync). A commit per write would make
 * the disk, not the work, the cost of each delivery and each call.
 */
export class GroupCommit<Staged = unknown> {
  private queue: QueuedWrite[] = [];
  private flushScheduled = false;
  private closing = false;
  private closed?: Promise<void>;

  constructor(
    private readonly db: Database.Database,
    private readonly health: SqliteStoreHealth,
    private readonly hooks: GroupCommitHooks<Staged> = {},
    private readonly log: { wal?: WalSync; checkpointer?: WalCheckpointer } = {},
  ) {}

  write<T>(run: () => T): Promise<T> {
    // The driver's own words for a closed connection, as a write after close() always got.
    const refused = this.closing
      ? new TypeError('The database connection is not open')
      : this.health.refusal();
    if (refused) return Promise.reject(refused);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (this.queue.length >= MAX_BATCH) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits what is queued now (also before the store closes). */
  flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const refused = this.health.refusal();
    if (refused) {
      for (const item of batch) item.reject(refused);
      return;
    }
    try {
      this.commit(batch);
    } catch {
      // The batch rolled back whole. Commit each write alone, so that one bad write (a replay
      // of an event pruned meanwhile, say) fails only its own caller; a failing disk fails all,
      // each as StoreUnavailableError (503), and readiness reports it until a write commits.
      for (const item of batch) {
        try {
          this.commit([item]);
        } catch (error) {
          item.reject(this.health.failed(error, 'write'));
        }
      }
    }
  }

  /** Lets the log go once the commits made so far are durable (the store is closing). */
  /** Takes no more writes; resolves once those made are durable and the log is let go. */
  close(): Promise<void> {
    this.closing = true;
    this.closed ??= (async () => {
      await this.log.wal?.close();
      await this.log.checkpointer?.close();
    })();
    return this.closed;
  }

  /** Runs the writes in one transaction; only once it is durable are callers answered. */
  private commit(batch: QueuedWrite[]): void {
    let results: unknown[];
    try {
      results = this.db.transaction(() => batch.map((item) => item.run()))();
    } catch (error) {
      this.hooks.rolledBack?.();
      throw error;
    }
    this.log.checkpointer?.noteWrite();
    const staged = this.hooks.sealed?.() as Staged;
    const durable = () => {
      this.health.writeSucceeded();
      this.hooks.durable?.(staged);
      batch.forEach((item, index) => item.resolve(results[index]));
    };
    if (!this.log.wal) return durable();
    this.log.wal.sync().then(durable, (error: unknown) => {
      // The fsync failed: the commit is in the log, visible to this connection, but whether it
      // is on disk is unknown. Nothing is acknowledged, and the store takes no more writes until
      // a restart (a redelivery would otherwise find this event and answer 2xx for it).
      const failure = this.health.syncFailed(error);
      for (const item of batch) item.reject(failure);
    });
  }
}
