import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { sqliteFailure } from './sqlite-failure';
import { PROBE_SCHEMA, writeProbe } from './sqlite-probe';

/** A store that cannot be opened at start-up; the message is one line naming the file and cause. */
export class StoreOpenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreOpenError';
  }
}

/**
 * Opens (creating when needed) a store's SQLite file, runs its set-up (pragmas, schema) and commits
 * one probe write, so that every way a store can be unusable at start-up (an uncreatable or
 * read-only directory, a file that is not a database, a damaged header, a full disk) is one
 * `StoreOpenError` naming the file, not a driver stack trace from inside Nest's injector.
 * `name` is what the store is called in messages ("event store").
 */
export function openSqliteStore(
  name: string,
  filename: string,
  setUp: (db: Database.Database) => void,
): Database.Database {
  if (filename !== ':memory:') {
    const dir = dirname(filename);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw new StoreOpenError(
        `the ${name} cannot be created in ${dir}: ${(error as Error).message}`,
      );
    }
  }
  let db: Database.Database;
  try {
    db = new Database(filename);
  } catch (error) {
    throw new StoreOpenError(explain(name, filename, error));
  }
  try {
    setUp(db);
    db.exec(PROBE_SCHEMA);
    writeProbe(db);
  } catch (error) {
    db.close();
    throw new StoreOpenError(explain(name, filename, error));
  }
  return db;
}

function explain(name: string, filename: string, error: unknown): string {
  const failure = sqliteFailure(error);
  const text = failure?.text ?? (error as Error).message;
  if (failure?.kind === 'corrupt') {
    return `the ${name} ${filename} is not a usable SQLite database: ${text}; move it away or restore it from a backup`;
  }
  if (failure?.kind === 'storage') {
    return `the ${name} ${filename} cannot be written: ${text}; check that ${dirname(filename)} is writable and has free space`;
  }
  return `the ${name} ${filename} cannot be opened: ${text}`;
}
