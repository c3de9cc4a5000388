import Database from 'better-sqlite3';
import { openSqliteStore } from '../../common/sqlite/open-sqlite-store';
import {
  DEFAULT_INTEGRITY_CHECK_BUDGET_MS,
  SqliteStoreHealth,
} from '../../common/sqlite/sqlite-store-health';
import { GroupCommit } from '../../common/sqlite/group-commit';
import { checkpointerFor } from '../../common/sqlite/wal-checkpointer';
import { WalSync } from '../../common/sqlite/wal-sync';
import { StoreReadiness } from '../../common/store/store-health';
import {
  applySynchronous,
  readSynchronous,
  SqliteSynchronous,
} from '../../webhooks/store/sqlite-synchronous';
import type { SurfaceName } from '../surfaces/surface-name';
import { Announcement, matchAnnouncement, TwinIndex } from '../twins/twin-matcher';
import {
  CallRecord,
  CallRecordPatch,
  CallStatus,
  CallStore,
  ClaimResult,
  OperatorAction,
  SidebandHold,
  StoredRuleSet,
  SurfaceArrival,
} from './call-store';
import { migrateCallStore } from './call-store-schema';

/** The statements on the path of every call, prepared once. */
function prepare(db: Database.Database) {
  return {
    idsById: db.prepare('SELECT call, surface FROM call_ids WHERE id = ?'),
    surfacesOf: db.prepare('SELECT surface FROM call_ids WHERE call = ?').pluck(),
    byPairKey: db.prepare('SELECT id FROM calls WHERE pair_key = ?').pluck(),
    insertCall: db.prepare(
      'INSERT INTO calls (call_id, status, record, pair_key) VALUES (?, ?, ?, ?)',
    ),
    insertId: db.prepare('INSERT INTO call_ids (surface, id, call) VALUES (?, ?, ?)'),
    recordById: db.prepare('SELECT record FROM calls WHERE id = ?').pluck(),
    recordByName: db.prepare('SELECT record FROM calls WHERE call_id = ?').pluck(),
    recordByAnyId: db
      .prepare(
        'SELECT c.record FROM call_ids i JOIN calls c ON c.id = i.call WHERE i.id = ? LIMIT 1',
      )
      .pluck(),
    writeById: db.prepare('UPDATE calls SET status = ?, record = ? WHERE id = ?'),
    writeByName: db.prepare('UPDATE calls SET status = ?, record = ? WHERE call_id = ?'),
    holdLease: db.prepare(
      `UPDATE calls SET sideband_holder = @holder, sideband_lease_until = @until
       WHERE call_id = @call AND (sideband_holder IS NULL OR sideband_holder = @holder)`,
    ),
    dropLease: db.prepare(
      `UPDATE calls SET sideband_holder = NULL, sideband_lease_until = NULL
       WHERE call_id = @call AND sideband_holder = @holder`,
    ),
    expiredLeases: db.prepare(
      `SELECT id, record FROM calls WHERE sideband_lease_until IS NOT NULL
         AND sideband_lease_until <= @now AND status = 'completed'
         AND json_extract(record, '$.ended') IS NULL
       ORDER BY sideband_lease_until LIMIT @limit`,
    ),
    adopt: db.prepare(
      'UPDATE calls SET sideband_holder = @holder, sideband_lease_until = @until WHERE id = @id',
    ),
  };
}

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
  /** Syncs the log before commits are acknowledged (`full`); none under `normal`. */
  private readonly wal: WalSync | undefined;
  private readonly statements: ReturnType<typeof prepare>;
  private readonly index: TwinIndex;

  /** Opens or creates the file; a store that cannot be used throws `StoreOpenError` naming it. */
  constructor(
    filename: string,
    private readonly options: SqliteCallStoreOptions = {},
  ) {
    let wal: WalSync | undefined;
    this.db = openSqliteStore('call store', filename, (db) => {
      db.pragma('journal_mode = WAL');
      wal = applySynchronous(db, filename, options.synchronous);
      db.pragma('busy_timeout = 5000');
      // Fewer, larger checkpoints (as in the event store): each is a pause on the path of a call.
      db.pragma('wal_autocheckpoint = 10000');
      migrateCallStore(db);
    });
    this.health = new SqliteStoreHealth(this.db, 'call store', filename);
    // Calls ringing at the same moment share one commit (one fsync under `full`).
    this.wal = wal;
    this.writes = new GroupCommit(
      this.db,
      this.health,
      {},
      {
        wal,
        checkpointer: checkpointerFor(filename, 'call store', this.db),
      },
    );
    const statements = (this.statements = prepare(this.db));
    this.index = {
      callsWithId: (id) => statements.idsById.all(id) as { call: number; surface: SurfaceName }[],
      callWithPairKey: (key) => statements.byPairKey.get(key) as number | undefined,
      surfacesOf: (call) => statements.surfacesOf.all(call) as SurfaceName[],
    };
  }

  /**
   * Matches and records the announcement in one step of the batch's transaction: announcements
   * of one call, however many arrive together, are matched one after the other.
   */
  async claim(
    record: CallRecord,
    announcement: Announcement,
    arrival: SurfaceArrival,
  ): Promise<ClaimResult> {
    const { statements } = this;
    const json = JSON.stringify(record);
    return this.writes.write((): ClaimResult => {
      const match = matchAnnouncement(announcement, this.index);
      if (match.kind === 'seen') return { outcome: 'seen', record: this.readRow(match.call) };
      if (match.kind === 'twin') {
        const existing = this.readRow(match.call);
        const first = Date.parse(existing.timings.received_at);
        const twin: SurfaceArrival = {
          ...arrival,
          after_first_ms: Math.max(0, Date.parse(arrival.received_at) - first),
          paired_by: match.by,
        };
        const updated = {
          ...existing,
          surfaces: { ...existing.surfaces, [announcement.surface]: twin },
        };
        statements.writeById.run(updated.status, JSON.stringify(updated), match.call);
        statements.insertId.run(announcement.surface, announcement.id, match.call);
        return { outcome: 'twin', record: updated };
      }
      const created = match.note ? JSON.stringify({ ...record, pairing_note: match.note }) : json;
      const { lastInsertRowid } = statements.insertCall.run(
        record.call_id,
        record.status,
        created,
        match.pairKey ?? null,
      );
      statements.insertId.run(announcement.surface, announcement.id, lastInsertRowid);
      return { outcome: 'created' };
    });
  }

  async update(
    callId: string,
    patch: CallRecordPatch,
    expected?: CallStatus,
    hold?: SidebandHold,
  ): Promise<boolean> {
    const changed = await this.modify(
      callId,
      (record) =>
        expected !== undefined && record.status !== expected ? undefined : { ...record, ...patch },
      hold &&
        (() =>
          this.statements.holdLease.run({
            holder: hold.holder,
            until: Date.now() + hold.leaseMs,
            call: callId,
          })),
    );
    return changed !== undefined;
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

  /** One transaction of the batch for all of `callIds` (SQLite's statement is per row). */
  async holdSidebands(holder: string, callIds: string[], leaseMs: number | null) {
    if (callIds.length === 0) return [];
    const { statements } = this;
    return this.writes.write(() => {
      if (leaseMs === null)
        return callIds.filter((call) => statements.dropLease.run({ holder, call }).changes > 0);
      const until = Date.now() + leaseMs;
      return callIds.filter(
        (call) => statements.holdLease.run({ holder, until, call }).changes > 0,
      );
    });
  }

  /** One process owns the file: the transaction alone makes the compare-and-set. */
  async adoptSidebands(holder: string, leaseMs: number, limit: number): Promise<CallRecord[]> {
    if (limit <= 0) return [];
    const { statements } = this;
    return this.writes.write(() => {
      const now = Date.now();
      const rows = statements.expiredLeases.all({ now, limit }) as { id: number; record: string }[];
      for (const row of rows) statements.adopt.run({ holder, until: now + leaseMs, id: row.id });
      return rows.map((row) => JSON.parse(row.record) as CallRecord);
    });
  }

  /**
   * Read, change and write one record inside the batch's transaction: the read and the write
   * are one step on the connection, so no concurrent change is lost. `change` may decline
   * (undefined): nothing is written.
   */
  private modify(
    callId: string,
    change: (record: CallRecord) => CallRecord | undefined,
    /** Also done, in the same transaction, when the record is written. */
    alongside?: () => void,
  ): Promise<CallRecord | undefined> {
    const { statements } = this;
    return this.writes.write(() => {
      const row = statements.recordByName.get(callId) as string | undefined;
      if (row === undefined) return undefined;
      const record = change(JSON.parse(row) as CallRecord);
      if (record) {
        statements.writeByName.run(record.status, JSON.stringify(record), callId);
        alongside?.();
      }
      return record;
    });
  }

  /** The record in row `id` (inside the transaction that found the row). */
  private readRow(id: number): CallRecord {
    return JSON.parse(this.statements.recordById.get(id) as string) as CallRecord;
  }

  async get(id: string): Promise<CallRecord | undefined> {
    const row = this.health.read(
      () =>
        (this.statements.recordByName.get(id) ?? this.statements.recordByAnyId.get(id)) as
          string | undefined,
    );
    return row === undefined ? undefined : (JSON.parse(row) as CallRecord);
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
    // Through the group commit, so that a saved rule set is durable before it is answered.
    return this.writes.write(() => {
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
    });
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
    return readSynchronous(this.db, this.wal);
  }

  async close(): Promise<void> {
    if (this.db.open) this.writes.flush();
    await this.writes.close();
    this.health.stop();
    if (this.db.open) this.db.close();
  }
}
