import type Database from 'better-sqlite3';
import { WalSync } from '../../common/sqlite/wal-sync';

/**
 * A store's durability (`STORE_SYNCHRONOUS`). `full` (default): every commit is on disk before
 * it is acknowledged, so it survives a power loss. `normal` (in WAL mode): a commit survives a
 * crash or kill of the process, but the last commits can be lost if the machine itself goes down.
 */
export type SqliteSynchronous = 'normal' | 'full';

const LEVELS = ['off', 'normal', 'full', 'extra'] as const;

/**
 * Sets the durability on this connection (default `full`). The connection itself always runs
 * at `synchronous = NORMAL`; under `full` the returned `WalSync` syncs the log before each
 * commit is acknowledged (off the event loop), which is what SQLite's FULL does on it.
 * `:memory:` has no file to sync.
 */
export function applySynchronous(
  db: Database.Database,
  filename: string,
  mode: SqliteSynchronous = 'full',
): WalSync | undefined {
  db.pragma('synchronous = NORMAL');
  return mode === 'full' && filename !== ':memory:' ? new WalSync(filename) : undefined;
}

/**
 * The durability in force on the store: `full` when its log is synced before each commit is
 * acknowledged, otherwise what SQLite reports for the connection.
 */
export function readSynchronous(
  db: Database.Database,
  wal: WalSync | undefined,
): (typeof LEVELS)[number] {
  return wal ? 'full' : LEVELS[db.pragma('synchronous', { simple: true }) as number];
}
