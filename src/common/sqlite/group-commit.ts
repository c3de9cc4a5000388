import type Database from 'better-sqlite3';
import { SqliteStoreHealth } from './sqlite-store-health';

interface QueuedWrite {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Writes queued in one turn of the event loop share a transaction, up to this many. */
const MAX_BATCH = 512;

/** What a store does around each commit of a batch (the event store announces its events). */
export interface GroupCommitHooks {
  /** The batch committed (durably, at the connection's `synchronous` level). */
  committed?: () => void;
  /** The batch rolled back: whatever it staged is gone. */
  rolledBack?: () => void;
}

/**
 * Group commit for one SQLite connection: every write asked for in a turn of the event loop
 * runs in one transaction, and each caller's promise settles only after that commit. With
 * `synchronous = FULL` a commit is an fsync that holds the event loop, so a commit per write
 * would make the disk, not the work, the cost of each delivery and each call.
 */
export class GroupCommit {
  private queue: QueuedWrite[] = [];
  private flushScheduled = false;

  constructor(
    private readonly db: Database.Database,
    private readonly health: SqliteStoreHealth,
    private readonly hooks: GroupCommitHooks = {},
  ) {}

  write<T>(run: () => T): Promise<T> {
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

  /** Runs the writes in one transaction; only once it is committed are callers answered. */
  private commit(batch: QueuedWrite[]): void {
    let results: unknown[];
    try {
      results = this.db.transaction(() => batch.map((item) => item.run()))();
    } catch (error) {
      this.hooks.rolledBack?.();
      throw error;
    }
    this.health.writeSucceeded();
    this.hooks.committed?.();
    batch.forEach((item, index) => item.resolve(results[index]));
  }
}
