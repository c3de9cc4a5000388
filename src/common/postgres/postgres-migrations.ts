import type { PoolClient } from 'pg';

/**
 * A server function of a store: `sql` creates it (`CREATE FUNCTION name...`). Its name carries
 * its version, and a released one is never edited: a change is a new name, created beside it.
 */
export interface Routine {
  name: string;
  sql: string;
}

/** One step of a store's schema, applied once, in order of `version`. Never edited once released. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const LEDGER = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  component text NOT NULL,
  version integer NOT NULL,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (component, version)
)`;

/**
 * Applies the migrations of one component (`events`, `calls`) that the schema does not have yet,
 * each in its own transaction with its row in `schema_migrations`, then creates the component's
 * `routines` that the schema lacks. Instances that start at once
 * queue on a session-level advisory lock keyed by the schema, so one migrates and the others find
 * the work done. A database migrated by a newer release (a version this one does not know) is
 * refused: running old code on a newer schema could corrupt it.
 */
export async function migrate(
  client: PoolClient,
  component: string,
  migrations: readonly Migration[],
  routines: readonly Routine[] = [],
): Promise<number[]> {
  await client.query(
    `SELECT pg_advisory_lock(hashtext(current_schema() || '.switchboard.migrations'))`,
  );
  try {
    await client.query(LEDGER);
    const { rows } = await client.query<{ version: number }>(
      'SELECT version FROM schema_migrations WHERE component = $1',
      [component],
    );
    const applied = new Set(rows.map((row) => row.version));
    const known = new Set(migrations.map((m) => m.version));
    const unknown = [...applied].filter((version) => !known.has(version));
    if (unknown.length > 0) {
      throw new Error(
        `the ${component} schema is at version ${Math.max(...unknown)}, newer than this release knows (${Math.max(...known)}): run the newer release`,
      );
    }
    const done: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(migration.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query(
          'INSERT INTO schema_migrations (component, version, name) VALUES ($1, $2, $3)',
          [component, migration.version, migration.name],
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new Error(
          `migration ${component} ${migration.version} (${migration.name}) failed: ${(error as Error).message}`,
        );
      }
      done.push(migration.version);
    }
    // Functions are not schema steps: each release creates those it lacks, under names that
    // carry their version (`..._v1`), so instances of an older release that share the database
    // go on calling the bodies they were written for, and the schema's version does not move.
    // One that exists is left as it is (no replace, which only its owner may do).
    for (const routine of routines) {
      const { rowCount } = await client.query(
        `SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = current_schema() AND p.proname = $1`,
        [routine.name],
      );
      if (!rowCount) await client.query(routine.sql);
    }
    return done;
  } finally {
    await client.query(
      `SELECT pg_advisory_unlock(hashtext(current_schema() || '.switchboard.migrations'))`,
    );
  }
}
