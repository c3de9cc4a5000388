import { Logger } from '@nestjs/common';
import { Worker } from 'node:worker_threads';

/**
 * How often the log is copied back into the database while commits come (and at once again
 * while the worker is behind). Not more often: once all of it is copied, SQLite starts the log
 * over at the next commit and syncs the new log's header on the event loop, at every
 * durability level; once a second per store keeps that rare.
 */
const CHECKPOINT_EVERY_MS = 1000;
/**
 * A log this long (frames of 4 KiB pages) is started over: once the worker has copied all but
 * a few frames, the event loop copies those few, and what was committed while the worker
 * copied, itself (a short pause); its next commit then starts the log from its beginning.
 * SQLite starts the log over only in a transaction that began when every frame was copied;
 * under a steady load, commits land while the worker copies, so that never happens by itself
 * and the log would grow for as long as the load lasts.
 */
const START_OVER_AT_FRAMES = 1024;
const FRAMES_LEFT_TO_THE_LOOP = 256;
const FAILURES_BEFORE_FALLING_BACK = 3;

/**
 * The worker's whole program: its own connection to the store's file, running a PASSIVE
 * checkpoint whenever asked. PASSIVE never blocks the writer; it copies what no reader still
 * needs, syncs the log before and the database after (the connection's `synchronous = NORMAL`),
 * and says whether frames were left (written meanwhile, or still read). Once one has copied
 * every frame, the writer's next transaction starts the log again from its beginning.
 */
const PROGRAM = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.filename);
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = NORMAL');
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true, log: result.log, checkpointed: result.checkpointed });
  } catch (error) {
    parentPort.postMessage({ ok: false, error: error.message });
  }
});
`;

type CheckpointAnswer =
  { ok: true; log: number; checkpointed: number } | { ok: false; error: string };

/**
 * Copies a store's write-ahead log back into its database on a worker thread, so that the
 * event loop runs only the last, short step of some (see `START_OVER_AT_FRAMES`). Left to
 * SQLite (`wal_autocheckpoint`), a checkpoint runs inside whichever commit makes the log long
 * enough: that commit, and every webhook and call
 * waiting behind it on the event loop, waited for the copy of thousands of pages and two
 * fsyncs. At 200 calls/s the log grew by 5 to 9 MB a second, so this happened every few
 * seconds, and those pauses were the calls' p99.
 *
 * The store's own connection is set to `wal_autocheckpoint = 0` only once the worker is running;
 * should the worker stop, SQLite's automatic checkpoints are turned back on.
 */
export class WalCheckpointer {
  private readonly logger = new Logger('Store');
  private readonly worker: Worker;
  private readonly timer: NodeJS.Timeout;
  private written = false;
  /** Frames the last checkpoint had copied: a round that copies none more is not rerun at once. */
  private lastCheckpointed = -1;
  private failures = 0;
  private exited = false;
  private closing?: Promise<void>;
  private running = false;
  private stopped = false;

  constructor(
    filename: string,
    private readonly name: string,
    /** The store's own connection. */
    private readonly connection: { pragma: (source: string) => unknown },
  ) {
    this.worker = new Worker(PROGRAM, {
      eval: true,
      workerData: { filename, driver: require.resolve('better-sqlite3') },
    });
    this.worker.on('message', (answer: CheckpointAnswer) => {
      this.running = false;
      if (!answer.ok) {
        this.logger.warn(`a checkpoint of the ${this.name} failed: ${answer.error}`);
        // With SQLite's own checkpoints off, a log that is never copied back would only grow.
        if (++this.failures >= FAILURES_BEFORE_FALLING_BACK) this.fallBack(answer.error);
        return;
      }
      this.failures = 0;
      const left = answer.log - answer.checkpointed;
      const progressed = answer.checkpointed !== this.lastCheckpointed;
      this.lastCheckpointed = answer.checkpointed;
      if (this.stopped) return;
      if (answer.log >= START_OVER_AT_FRAMES && left <= FRAMES_LEFT_TO_THE_LOOP) {
        // What is left, and what was committed while the worker copied: a few frames.
        try {
          this.connection.pragma('wal_checkpoint(PASSIVE)');
        } catch (error) {
          // The next write says whether the store itself fails; the worker goes on copying.
          this.logger.warn(`a checkpoint of the ${this.name} failed: ${(error as Error).message}`);
        }
      } else if (left > 0) {
        // Commits came during the copy: go again at once. A reader holding old frames (a
        // backup, an integrity check) stops any progress: then wait for the next interval.
        this.written = true;
        if (progressed) this.tick();
      }
    });
    this.worker.on('error', (error) => this.fallBack(error.message));
    this.worker.on('exit', () => {
      this.exited = true;
      this.fallBack('its worker stopped');
    });
    // After the listeners, which would hold the process open again: the worker never keeps
    // the process alive by itself.
    this.worker.unref();
    this.connection.pragma('wal_autocheckpoint = 0');
    this.timer = setInterval(() => this.tick(), CHECKPOINT_EVERY_MS);
    this.timer.unref();
  }

  /** A commit added to the log: it is copied back at the next tick. */
  noteWrite(): void {
    this.written = true;
  }

  /** Stops the worker, once its connection is closed (every caller waits for that). */
  close(): Promise<void> {
    this.closing ??= this.stopWorker();
    return this.closing;
  }

  private async stopWorker(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    if (this.exited) return;
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    // Held until the worker has closed its connection, so the shutdown goes on after it.
    this.worker.ref();
    this.worker.postMessage('close');
    await exited;
  }

  private tick(): void {
    if (!this.written || this.running || this.stopped) return;
    this.written = false;
    this.running = true;
    this.worker.postMessage('checkpoint');
  }

  private fallBack(reason: string): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    try {
      this.connection.pragma('wal_autocheckpoint = 10000');
    } catch {
      return; // the store is closed: nothing to checkpoint
    }
    this.logger.warn(
      `the ${this.name}'s checkpoints run on the event loop again (${reason}): expect pauses`,
    );
  }
}

/** The checkpointer of a store's connection; none for `:memory:`, which has no log. */
export function checkpointerFor(
  filename: string,
  name: string,
  connection: { pragma: (source: string) => unknown },
): WalCheckpointer | undefined {
  return filename === ':memory:' ? undefined : new WalCheckpointer(filename, name, connection);
}
