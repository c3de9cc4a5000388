import type Database from 'better-sqlite3';

/**
 * SQLite's durability setting, per connection. `full`: every commit is fsynced before it
 * returns, so it survives a power loss. `normal` (in WAL mode): a commit survives a crash or kill
 * of the process, but the last commits can be lost if the machine itself goes down.
 */
export type SqliteSynchronous = 'normal' | 'full';

const LEVELS = ['off', 'normal', 'full', 'extra'] as const;

/** Sets the durability on this connection (default `full`). */
export function applySynchronous(db: Database.Database, mode: SqliteSynchronous = 'full'): void {
  db.pragma(`synchronous = ${mode === 'normal' ? 'NORMAL' : 'FULL'}`);
}

/** The durability in force on this connection, read back from SQLite itself. */
export function readSynchronous(db: Database.Database): (typeof LEVELS)[number] {
  return LEVELS[db.pragma('synchronous', { simple: true }) as number];
}
