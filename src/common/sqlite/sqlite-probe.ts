import type Database from 'better-sqlite3';

/** One row that readiness and the start-up check rewrite to prove that a commit reaches the disk. */
export const PROBE_SCHEMA = `CREATE TABLE IF NOT EXISTS store_probe (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  written_at INTEGER NOT NULL
);`;

/**
 * Commits one small write. A lock check (`BEGIN IMMEDIATE`) is not enough: it succeeds on a full
 * disk, where every real commit fails with SQLITE_FULL. Throws what SQLite throws.
 */
export function writeProbe(db: Database.Database): void {
  db.prepare(
    `INSERT INTO store_probe (id, written_at) VALUES (1, ?)
     ON CONFLICT (id) DO UPDATE SET written_at = excluded.written_at`,
  ).run(Date.now());
}
