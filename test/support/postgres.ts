import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** The PostgreSQL the suite may use; unset, its tests are skipped (one line says so at start). */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL?.trim() || undefined;

/** `describe` when TEST_DATABASE_URL is set, `describe.skip` otherwise. */
export const describeWithPostgres = TEST_DATABASE_URL ? describe : describe.skip;

/** A schema of its own for one test file or test, so parallel workers and CI runs never meet. */
export interface TestSchema {
  name: string;
  /** TEST_DATABASE_URL with this schema as the connection's search_path. */
  url: string;
  /** Runs SQL as the test (not through a store). */
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

export async function createTestSchema(label = 't'): Promise<TestSchema> {
  if (!TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set');
  const name = `sbt_${label}_${process.pid}_${randomBytes(4).toString('hex')}`.toLowerCase();
  const admin = new Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${name}`);
  return {
    name,
    url: withSearchPath(TEST_DATABASE_URL, name),
    query: async <R>(text: string, params?: unknown[]) =>
      (await admin.query(text, params)).rows as R[],
    drop: async () => {
      try {
        await admin.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** The URL with `options=-c search_path=<schema>`: libpq's way, which the pg driver reads too. */
export function withSearchPath(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-c search_path=${schema}`);
  return parsed.toString();
}

/**
 * For each test of the enclosing `describe`: a fresh schema that `open` (a store) has migrated,
 * and a client of the test's own on it; both gone after the test.
 */
export function migratedSchema(
  label: string,
  open: (url: string) => Promise<{ close(): Promise<void> }>,
): { schema: TestSchema; client: Client } {
  const each = {} as { schema: TestSchema; client: Client };
  beforeEach(async () => {
    each.schema = await createTestSchema(label);
    await (await open(each.schema.url)).close();
    each.client = new Client({ connectionString: each.schema.url });
    await each.client.connect();
  });
  afterEach(async () => {
    await each.client.end();
    await each.schema.drop();
  });
  return each;
}

/**
 * The plans of every statement `work` runs on `client`, functions' statements included, as
 * the server's `auto_explain` writes them (sent to this client as notices). Undefined when
 * the test's role may not load `auto_explain` (a superuser's right): the caller says so.
 */
export async function plansOf(
  client: Client,
  work: () => Promise<unknown>,
): Promise<string | undefined> {
  const { rows } = await client.query<{ superuser: boolean }>(
    'SELECT rolsuper AS superuser FROM pg_roles WHERE rolname = current_user',
  );
  if (!rows[0]?.superuser) {
    console.warn(
      `plan check skipped: TEST_DATABASE_URL's role is not a superuser, which auto_explain needs`,
    );
    return undefined;
  }
  const plans: string[] = [];
  const collect = (notice: { message?: string }) => plans.push(notice.message ?? '');
  await client.query(`LOAD 'auto_explain'`);
  await client.query(
    `SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on;
     SET client_min_messages = log`,
  );
  client.on('notice', collect);
  try {
    await work();
  } finally {
    client.off('notice', collect);
    await client.query(
      'RESET client_min_messages; RESET auto_explain.log_min_duration; RESET auto_explain.log_nested_statements',
    );
  }
  return plans.join('\n');
}
