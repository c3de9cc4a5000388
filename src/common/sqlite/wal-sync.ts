import { closeSync, fdatasync, fdatasyncSync, openSync } from 'node:fs';

/**
 * Makes a SQLite connection's commits durable off the event loop. The connection runs with
 * `synchronous = NORMAL`, so a commit only writes its frames to the write-ahead log (a `write`,
 * no fsync); `sync()` then fdatasyncs the `-wal` file on libuv's thread pool, and only once that
 * has returned is the commit acknowledged. That is what `synchronous = FULL` does at each commit
 * (fsync the WAL), but there the fsync holds the event loop for its whole duration: on a
 * 2-core machine at 200 calls/s that was a third of the loop's time, and every webhook arriving
 * meanwhile waited for it. Checkpoints, which also sync, are the connection's own as before.
 *
 * Syncs are coalesced: while one runs, every commit made meanwhile waits for the next one, which
 * starts when the running one ends and covers them all (a sync that started before a commit
 * does not cover it). So there is at most one fsync in flight per file, however many commits.
 */
export class WalSync {
  private fd: number | undefined;
  /** The first failed sync: every later one fails with it (see `SqliteStoreHealth`). */
  private failure: Error | undefined;
  private closed = false;
  private running: Promise<void> | undefined;
  private next:
    { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } | undefined;

  /** `database`: the SQLite file's path; its log is `<database>-wal`, as SQLite names it. */
  constructor(private readonly database: string) {}

  /** Resolves once every commit made before this call is on disk; rejects if the fsync fails. */
  sync(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.running) return this.start();
    if (!this.next) {
      let resolve!: () => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      this.next = { promise, resolve, reject };
    }
    return this.next.promise;
  }

  /** Syncs the log now, holding the thread: once, at open, for what an earlier process wrote. */
  syncAtOpen(): void {
    fdatasyncSync(this.open());
  }

  /** Waits for the syncs asked for so far, then lets the file go. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.running) await this.running.catch(() => undefined);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /**
   * The log, opened at the first sync: SQLite creates it with its first write. The descriptor
   * stays open; SQLite truncates or reuses the log in place, never replaces it while open.
   */
  private open(): number {
    return (this.fd ??= openSync(`${this.database}-wal`, 'r'));
  }

  private start(): Promise<void> {
    const running = new Promise<void>((resolve, reject) => {
      let fd: number;
      if (this.closed) return reject(syncFailure(new Error('the store is closed')));
      try {
        fd = this.open();
      } catch (error) {
        return reject(syncFailure(error));
      }
      fdatasync(fd, (error) => {
        // Linux may drop the pages of a failed fsync and report success on the next one:
        // after a failure, no later sync proves anything.
        if (error) reject((this.failure ??= syncFailure(error)));
        else if (this.failure) reject(this.failure);
        else resolve();
      });
    });
    this.running = running;
    const done = () => {
      this.running = undefined;
      const waiting = this.next;
      this.next = undefined;
      if (waiting) this.start().then(waiting.resolve, waiting.reject);
    };
    running.then(done, done);
    return running;
  }
}

/** As SQLite itself reports a failed sync of its log, so that the store's health reads it so. */
function syncFailure(error: unknown): Error {
  const failure = new Error(`the write-ahead log could not be synced: ${(error as Error).message}`);
  return Object.assign(failure, { code: 'SQLITE_IOERR_FSYNC' });
}
