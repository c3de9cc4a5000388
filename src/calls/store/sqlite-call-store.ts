import Database from 'better-sqlite3';
import { openSqliteStore } from '../../common/sqlite/open-sqlite-store';
import {
  DEFAULT_INTEGRITY_CHECK_BUDGET_MS,
  SqliteStoreHealth,
} from '../../common/sqlite/sqlite-store-health';
import { GroupCommit } from '../../common/sqlite/group-commit';
import { StoreReadiness } from '../../common/store/store-health';
import {
  applySynchronous,
  readSynchronous,
  SqliteSynchronous,
} from '../../webhooks/store/sqlite-synchronous';
import { CallRecord, CallStatus, CallStore, OperatorAction, StoredRuleSet } from './call-store';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS calls (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  call_id TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL,
  record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_status ON calls (status, id);
CREATE TABLE IF NOT EXISTS rule_sets (
  name TEXT PRIMARY KEY,
  document TEXT NOT NULL,
  version TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
`;

export interface SqliteCallStoreOptions {
  /** How long `checkIntegrity()` waits for `PRAGMA quick_check` (default 5000 ms). */
  integrityCheckBudgetMs?: number;
  /**
   * SQLite durability, as the event store's (default `full`): a call's record is what stops a
   * second delivery from acting on the call again, so it must outlive what the acknowledged
   * event outlives.
   */
  synchronous?: SqliteSynchronous;
}

/**
 * Call records (one JSON document per call) and the API's rule set, in SQLite (WAL). Failures of
 * the store itself (full disk, corrupt file) throw `StoreUnavailableError` and show in
 * `checkReady()`, as in the event store.
 */
export class SqliteCallStore implements CallStore {
  private readonly db: Database.Database;
  private readonly health: SqliteStoreHealth;
  private readonly writes: GroupCommit;
  private readonly statements: {
    insert: Database.Statement;
    select: Database.Statement;
    update: Database.Statement;
  };

  /** Opens or creates the file; a store that cannot be used throws `StoreOpenError` naming it. */
  constructor(
    filename: string,
    private readonly options: SqliteCallStoreOptions = {},
  ) {
    this.db = openSqliteStore('call store', filename, (db) => {
      db.pragma('journal_mode = WAL');
      applySynchronous(db, options.synchronous);
      db.pragma('busy_timeout = 5000');
      // Fewer, larger checkpoints (as in the event store): each is a pause on the path of a call.
      db.pragma('wal_autocheckpoint = 10000');
      db.exec(SCHEMA);
    });
    this.health = new SqliteStoreHealth(this.db, 'call store', filename);
    // Calls ringing at the same moment share one commit (one fsync under `full`).
    this.writes = new GroupCommit(this.db, this.health);
    this.statements = {
      insert: this.db.prepare(
        'INSERT INTO calls (call_id, status, record) VALUES (?, ?, ?) ON CONFLICT (call_id) DO NOTHING',
      ),
      select: this.db.prepare('SELECT record FROM calls WHERE call_id = ?'),
      update: this.db.prepare('UPDATE calls SET status = ?, record = ? WHERE call_id = ?'),
    };
  }

  async create(record: CallRecord): Promise<boolean> {
    const json = JSON.stringify(record);
    const result = await this.writes.write(() =>
      this.statements.insert.run(record.call_id, record.status, json),
    );
    return result.changes === 1;
  }

  async update(callId: string, patch: Partial<CallRecord>): Promise<void> {
    await this.modify(callId, (record) => ({ ...record, ...patch }));
  }

  async appendOperatorAction(
    callId: string,
    action: OperatorAction,
  ): Promise<CallRecord | undefined> {
    return this.modify(callId, (record) => ({
      ...record,
      operator_actions: [...record.operator_actions, action],
    }));
  }

  /**
   * Read, change and write one record inside the batch's transaction: the read and the write
   * are one step on the connection, so no concurrent change is lost.
   */
  private modify(
    callId: string,
    change: (record: CallRecord) => CallRecord,
  ): Promise<CallRecord | undefined> {
    return this.writes.write(() => {
      const row = this.statements.select.get(callId) as { record: string } | undefined;
      if (!row) return undefined;
      const record = change(JSON.parse(row.record) as CallRecord);
      this.statements.update.run(record.status, JSON.stringify(record), callId);
      return record;
    });
  }

  async get(callId: string): Promise<CallRecord | undefined> {
    const row = this.health.read(() => this.statements.select.get(callId)) as
      { record: string } | undefined;
    return row ? (JSON.parse(row.record) as CallRecord) : undefined;
  }

  async list(query: { before?: number; limit: number; status?: CallStatus }) {
    const rows = this.health.read(() =>
      this.db
        .prepare(
          `SELECT id, record FROM calls WHERE id < @before AND (@status IS NULL OR status = @status)
         ORDER BY id DESC LIMIT @limit`,
        )
        .all({
          before: query.before ?? Number.MAX_SAFE_INTEGER,
          status: query.status ?? null,
          limit: query.limit,
        }),
    ) as {
      id: number;
      record: string;
    }[];
    return {
      records: rows.map((row) => JSON.parse(row.record) as CallRecord),
      cursor: rows.length === query.limit ? rows[rows.length - 1].id : undefined,
    };
  }

  async loadRuleSet(): Promise<StoredRuleSet | undefined> {
    const row = this.health.read(() =>
      this.db
        .prepare(`SELECT document, version, updated_at FROM rule_sets WHERE name = 'active'`)
        .get(),
    ) as { document: string; version: string; updated_at: string } | undefined;
    return row
      ? {
          document: JSON.parse(row.document) as unknown,
          version: row.version,
          updated_at: row.updated_at,
        }
      : undefined;
  }

  async saveRuleSet(
    document: unknown,
    version: string,
    expected: string | undefined,
  ): Promise<boolean> {
    return this.health.write(() =>
      this.db.transaction(() => {
        const current = this.db
          .prepare(`SELECT version FROM rule_sets WHERE name = 'active'`)
          .get() as { version: string } | undefined;
        if (current?.version !== expected) return false;
        this.db
          .prepare(
            `INSERT INTO rule_sets (name, document, version, updated_at) VALUES ('active', ?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET document = excluded.document, version = excluded.version,
             updated_at = excluded.updated_at`,
          )
          .run(JSON.stringify(document), version, new Date().toISOString());
        return true;
      })(),
    );
  }

  async checkReady(): Promise<StoreReadiness> {
    return this.health.checkReady();
  }

  /** `PRAGMA quick_check`, bounded: see `SqliteEventStore.checkIntegrity`. */
  checkIntegrity(): Promise<void> {
    return this.health.checkIntegrity(
      this.options.integrityCheckBudgetMs ?? DEFAULT_INTEGRITY_CHECK_BUDGET_MS,
    );
  }

  /** The durability in force on the store's connection, as SQLite reports it. */
  synchronousMode(): ReturnType<typeof readSynchronous> {
    return readSynchronous(this.db);
  }

  async close(): Promise<void> {
    if (this.db.open) this.writes.flush();
    this.health.stop();
    if (this.db.open) this.db.close();
  }
}
