import { Logger } from '@nestjs/common';
import { Pool, PoolClient, QueryResultRow, types as pgTypes } from 'pg';
import { StoreOpenError } from '../sqlite/open-sqlite-store';
import { StoreReadiness, StoreUnavailableError } from '../store/store-health';
import { describePostgresFault, isStoreFault, storeError } from './postgres-failure';
import { Migration, migrate, Routine } from './postgres-migrations';
import { PostgresListener } from './postgres-listener';

export interface PostgresDatabaseOptions {
  /** `postgres://user:password@host:port/database`; `?options=-c search_path=...` picks the schema. */
  url: string;
  /** What the store is called in messages: "event store", "call store". */
  name: string;
  /** Its migrations' name in `schema_migrations`. */
  component: string;
  migrations: readonly Migration[];
  /** Its server functions, created at open when the schema lacks them (see `migrate`). */
  routines?: readonly Routine[];
  /** Connections in the pool (default 10). */
  poolSize?: number;
}

/** A readiness probe that takes longer than this counts as a lost connection. */
const PROBE_TIMEOUT_MS = 2000;
const CONNECT_TIMEOUT_MS = 5000;

/**
 * bigint (seq, millisecond times) as a JS number: every value the stores keep is far below
 * 2^53. Only this pool's connections parse this way; the driver's global parsers are untouched.
 */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pgTypes.builtins.INT8 && format !== 'binary'
      ? (value: string) => Number(value)
      : pgTypes.getTypeParser(oid, format)) as typeof pgTypes.getTypeParser,
};

/**
 * One store's connection to PostgreSQL: a pool, the schema it works in (the connection's
 * `current_schema()`), the store's migrations applied at open, readiness, and LISTEN.
 */
export class PostgresDatabase {
  private readonly logger = new Logger('Store');
  private closed = false;
  private readonly listeners = new Set<PostgresListener>();

  private constructor(
    readonly pool: Pool,
    readonly name: string,
    readonly url: string,
    /** The schema the store's tables live in (the first of the connection's search_path). */
    readonly schema: string,
  ) {}

  /**
   * Connects, checks the server answers, and migrates. Every way this fails is one
   * `StoreOpenError` naming the server (never the password) and the cause.
   */
  static async open(options: PostgresDatabaseOptions): Promise<PostgresDatabase> {
    const where = describeTarget(options.url);
    const pool = new Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      types: TYPES,
    });
    // An idle connection that drops emits here; without a listener it would end the process.
    pool.on('error', () => undefined);
    let client: PoolClient | undefined;
    try {
      client = await pool.connect();
      const { rows } = await client.query<{ schema: string | null }>(
        'SELECT current_schema() AS schema',
      );
      const schema = rows[0]?.schema;
      if (!schema) {
        throw new Error(
          'the connection has no current schema (its search_path names none that exists): create the schema or fix options=-c search_path=... in the URL',
        );
      }
      await migrate(client, options.component, options.migrations, options.routines);
      client.release();
      return new PostgresDatabase(pool, options.name, options.url, schema);
    } catch (error) {
      client?.release(true);
      await pool.end().catch(() => undefined);
      throw new StoreOpenError(
        `the ${options.name} cannot use PostgreSQL at ${where}: ${describePostgresFault(error)}`,
      );
    }
  }

  async query<R extends QueryResultRow>(text: string, params?: unknown[]): Promise<R[]> {
    this.assertOpen();
    try {
      return (await this.pool.query<R>(text, params)).rows;
    } catch (error) {
      throw storeError(this.name, error);
    }
  }

  /**
   * A statement the server parses and plans once per connection (a named prepared statement),
   * for those on the path of every event or call. A statement's own error (a constraint, say)
   * gives the connection back for reuse, with the statements prepared on it.
   */
  prepared<R extends QueryResultRow>(
    statement: { name: string; text: string },
    params: unknown[],
  ): Promise<R[]> {
    return this.withClient(
      async (client) => (await client.query<R>({ ...statement, values: params })).rows,
    );
  }

  /** Runs `work` in one transaction on one connection: committed if it resolves, else rolled back. */
  transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    return this.withClient(async (client) => {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    });
  }

  /**
   * Runs `work` on one connection of the pool, which sends its own BEGIN and COMMIT (with other
   * statements in the same round trip, say); if it throws, whatever it began is rolled back.
   */
  async withClient<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    this.assertOpen();
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw storeError(this.name, error);
    }
    let broken = false;
    try {
      return await work(client);
    } catch (error) {
      broken = isStoreFault(error);
      if (!broken) await client.query('ROLLBACK').catch(() => (broken = true));
      throw storeError(this.name, error);
    } finally {
      // A connection that failed is not given back for reuse.
      client.release(broken);
    }
  }

  /** A connection of its own that LISTENs on `channel`, reconnecting by itself when it drops. */
  listen(
    channel: string,
    onNotify: (payload: string | undefined) => void,
    onConnected: () => void,
  ): PostgresListener {
    const listener = new PostgresListener(this.url, channel, TYPES, onNotify, onConnected, (up) => {
      if (up) this.logger.log(`the ${this.name} is listening on PostgreSQL again`);
      else
        this.logger.error(
          `the ${this.name} lost its LISTEN connection to PostgreSQL; reconnecting`,
        );
    });
    this.listeners.add(listener);
    return listener;
  }

  /** Stops a listener of `listen`: it no longer counts for readiness. */
  async unlisten(listener: PostgresListener): Promise<void> {
    this.listeners.delete(listener);
    await listener.close();
  }

  /**
   * Ready when a query answers within 2 s and every LISTEN connection is up; otherwise the
   * problem. The pool reconnects by itself, so an instance becomes ready again without help.
   */
  async checkReady(): Promise<StoreReadiness> {
    if (this.closed) return { ready: false, problem: `the ${this.name} is closed` };
    try {
      await withTimeout(this.pool.query('SELECT 1'), PROBE_TIMEOUT_MS);
    } catch (error) {
      return {
        ready: false,
        problem: `the ${this.name} cannot reach PostgreSQL: ${describePostgresFault(error)}`,
      };
    }
    for (const listener of this.listeners) {
      if (!listener.connected) {
        return {
          ready: false,
          problem: `the ${this.name} has lost its LISTEN connection to PostgreSQL (reconnecting): events stored by other instances are not streamed`,
        };
      }
    }
    return { ready: true };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.listeners].map((listener) => listener.close()));
    await this.pool.end().catch(() => undefined);
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError(`the ${this.name} is closed`);
  }
}

/** `host:port/database` of a connection string, for messages: no user, no password. */
export function describeTarget(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}${parsed.pathname || '/'}`;
  } catch {
    return '(an unparsable DATABASE_URL)';
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
