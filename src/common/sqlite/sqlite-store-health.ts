import { Logger } from '@nestjs/common';
import type Database from 'better-sqlite3';
import { StoreReadiness, StoreUnavailableError } from '../store/store-health';
import { StoreOpenError } from './open-sqlite-store';
import { IntegrityCheck, IntegrityVerdict, startQuickCheck } from './sqlite-integrity-check';
import { sqliteFailure } from './sqlite-failure';
import { writeProbe } from './sqlite-probe';

/** A failing store is probed with a real write at most this often, however often it is asked. */
const PROBE_INTERVAL_MS = 1000;

/** How long start-up waits for `PRAGMA quick_check` before the check goes on in the background. */
export const DEFAULT_INTEGRITY_CHECK_BUDGET_MS = 5000;

/**
 * What one SQLite store knows about its own health, for readiness:
 * - the last write failed (full disk, I/O error, read-only file): not ready until a write
 *   succeeds. Traffic stops once readiness says so, so readiness itself probes with a real
 *   write, and the first one that commits makes the node ready again;
 * - the file is corrupt (SQLITE_CORRUPT from any statement, or the integrity check): not ready
 *   until a restart, since no write can repair it;
 * - the write-ahead log could not be synced: what was written since the last good sync may not
 *   be on disk, though this process reads it, and on Linux a later fsync can succeed without
 *   having written those pages. No write is taken and the node is not ready until a restart
 *   (after which SQLite recovers the log from what the disk really holds).
 * Each change is logged once, naming the file; answers name the store but not the file.
 */
export class SqliteStoreHealth {
  private readonly logger = new Logger('Store');
  private corruption?: string;
  private writeFailure?: string;
  private syncFailure?: string;
  /** When readiness last probed a failing store with a write. */
  private lastProbe?: number;
  private integrityCheck?: IntegrityCheck;

  constructor(
    private readonly db: Database.Database,
    /** What the store is called in messages: "event store", "call store". */
    private readonly name: string,
    private readonly file: string,
  ) {}

  /** Runs a read; a corrupt file is noted, and any failure of the store is thrown as unavailable. */
  read<T>(run: () => T): T {
    try {
      return run();
    } catch (error) {
      throw this.failed(error, 'read');
    }
  }

  /** Runs a write (one statement or a transaction) and notes whether it committed. */
  write<T>(run: () => T): T {
    const refused = this.refusal();
    if (refused) throw refused;
    let result: T;
    try {
      result = run();
    } catch (error) {
      throw this.failed(error, 'write');
    }
    this.writeSucceeded();
    return result;
  }

  /**
   * Notes a failure of the store and returns what to throw: `StoreUnavailableError`, or the
   * error itself when it is one statement's fault (a constraint, a closed connection).
   */
  failed(error: unknown, during: 'read' | 'write'): unknown {
    const failure = sqliteFailure(error);
    if (!failure) return error;
    if (failure.kind === 'corrupt') {
      this.noteCorruption(failure.text);
      return new StoreUnavailableError(`the ${this.name} is corrupt: ${failure.text}`, this.file);
    }
    if (during === 'write') {
      if (this.writeFailure === undefined) {
        this.lastProbe = Date.now(); // readiness reports this failure before it probes again
        this.logger.error(
          `the ${this.name} ${this.file} does not take writes: ${failure.text}; not ready until a write succeeds`,
        );
      }
      this.writeFailure = failure.text;
      return new StoreUnavailableError(
        `the ${this.name} does not take writes: ${failure.text}`,
        this.file,
      );
    }
    return new StoreUnavailableError(`the ${this.name} cannot be read: ${failure.text}`, this.file);
  }

  /**
   * The log's fsync failed (see the class comment): from now on every write is refused with
   * the returned error, and readiness says so, until a restart.
   */
  syncFailed(error: unknown): StoreUnavailableError {
    const text = sqliteFailure(error)?.text ?? (error as Error).message;
    if (this.syncFailure === undefined) {
      this.syncFailure = text;
      this.logger.error(
        `the ${this.name} ${this.file} could not sync its write-ahead log (${text}): the last writes may not be on disk; it takes no more writes and is not ready until the service restarts (check the disk first)`,
      );
    }
    return this.refusal()!;
  }

  /** Why no write may be made now (a failed sync of the log), if so. */
  refusal(): StoreUnavailableError | undefined {
    if (this.syncFailure === undefined) return undefined;
    return new StoreUnavailableError(
      `the ${this.name} does not take writes: ${this.syncFailure}; restart the service`,
      this.file,
    );
  }

  writeSucceeded(): void {
    if (this.writeFailure === undefined) return;
    this.writeFailure = undefined;
    this.logger.log(`the ${this.name} ${this.file} takes writes again`);
  }

  checkReady(): StoreReadiness {
    if (!this.db.open) return { ready: false, problem: `the ${this.name} is closed` };
    if (this.syncFailure !== undefined) return { ready: false, problem: this.refusal()!.message };
    if (this.corruption === undefined && this.writeFailure !== undefined) this.probe();
    if (this.corruption !== undefined) {
      return { ready: false, problem: `the ${this.name} is corrupt: ${this.corruption}` };
    }
    if (this.writeFailure !== undefined) {
      return {
        ready: false,
        problem: `the ${this.name} does not take writes: ${this.writeFailure}`,
      };
    }
    return this.lockIsFree();
  }

  /**
   * Runs `PRAGMA quick_check` on the file, waiting at most `budgetMs`. Damage found in time
   * refuses the start (`StoreOpenError` naming the file); a check that takes longer goes on in
   * the background, and damage it finds then makes the node not ready.
   */
  async checkIntegrity(budgetMs: number): Promise<void> {
    if (this.file === ':memory:') return;
    let check: IntegrityCheck;
    let first: IntegrityVerdict | 'unfinished';
    try {
      check = this.integrityCheck = startQuickCheck(this.file);
      first = await withinBudget(check.verdict, budgetMs);
    } catch (error) {
      this.logger.warn(
        `could not check the integrity of ${this.file}: ${(error as Error).message}; starting without the check`,
      );
      return;
    }
    if (first === 'unfinished') {
      this.logger.warn(
        `the integrity check of ${this.file} did not finish within ${budgetMs} ms; it goes on in the background`,
      );
      check.verdict.then(
        (verdict) => {
          if (!verdict.ok)
            this.noteCorruption(`PRAGMA quick_check: ${summarize(verdict.problems)}`);
        },
        () => undefined, // stopped by close(), or could not run: nothing learnt
      );
      return;
    }
    if (!first.ok) {
      check.stop();
      throw new StoreOpenError(
        `the ${this.name} ${this.file} is corrupt (PRAGMA quick_check: ${summarize(first.problems)}); restore it from a backup or move it away`,
      );
    }
  }

  /** Stops a background integrity check (the store is closing). */
  stop(): void {
    this.integrityCheck?.stop();
  }

  private noteCorruption(problem: string): void {
    if (this.corruption !== undefined) return;
    this.corruption = problem;
    this.logger.error(
      `the ${this.name} ${this.file} is corrupt: ${problem}; not ready: restore it from a backup or move it away, then restart`,
    );
  }

  /**
   * A real write, at most once per interval: the only proof that the disk takes commits again.
   * Its outcome is noted like any write's (a success clears the failure).
   */
  private probe(): void {
    const now = Date.now();
    if (this.lastProbe !== undefined && now - this.lastProbe < PROBE_INTERVAL_MS) return;
    this.lastProbe = now;
    try {
      this.withoutWaiting(() => this.write(() => writeProbe(this.db)));
    } catch {
      // noted by write(): readiness reports it
    }
  }

  /** Takes the write lock for an instant: another process holding it means not writable now. */
  private lockIsFree(): StoreReadiness {
    try {
      this.withoutWaiting(() => this.db.exec('BEGIN IMMEDIATE; ROLLBACK;'));
      return { ready: true };
    } catch (error) {
      const text = sqliteFailure(error)?.text ?? (error as Error).message;
      return { ready: false, problem: `the ${this.name} does not take writes: ${text}` };
    }
  }

  /** A readiness answer must not stall the event loop behind another process's lock. */
  private withoutWaiting(run: () => void): void {
    const wait = this.db.pragma('busy_timeout', { simple: true }) as number;
    this.db.pragma('busy_timeout = 0');
    try {
      run();
    } finally {
      if (this.db.open) this.db.pragma(`busy_timeout = ${wait}`);
    }
  }
}

/** The first problem SQLite found; the rest only say where else the damage is. */
function summarize(problems: string[]): string {
  return problems.length > 1 ? `${problems[0]}, and ${problems.length - 1} more` : problems[0];
}

/** The promise's value, or `unfinished` once `ms` have passed. */
async function withinBudget<T>(promise: Promise<T>, ms: number): Promise<T | 'unfinished'> {
  let timer: NodeJS.Timeout | undefined;
  const outOfTime = new Promise<'unfinished'>((resolve) => {
    timer = setTimeout(() => resolve('unfinished'), ms);
  });
  try {
    return await Promise.race([promise, outOfTime]);
  } finally {
    clearTimeout(timer);
  }
}
