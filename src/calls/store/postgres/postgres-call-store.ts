import { createHash } from 'node:crypto';
import type { PoolClient, QueryResult } from 'pg';
import { PostgresDatabase } from '../../../common/postgres/postgres-database';
import { isStoreFault } from '../../../common/postgres/postgres-failure';
import { StoreReadiness } from '../../../common/store/store-health';
import type { SurfaceName } from '../../surfaces/surface-name';
import { Announcement, matchAnnouncement, TwinIndex } from '../../twins/twin-matcher';
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
} from '../call-store';
import { CALL_MIGRATIONS } from './call-migrations';
import { CALL_ROUTINES, CREATE_CALLS, UPDATE_CALLS } from './call-routines';

export interface PostgresCallStoreOptions {
  /** `postgres://...`; the schema is the connection's (`?options=-c search_path=...`). */
  url: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
}

/** Now, in ms since the epoch, by the database's clock. */
const NOW_MS = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/** Record updates in one statement, at most. */
const MAX_UPDATE_BATCH = 256;

/** One record update, as the batch statement reads it (`jsonb_to_recordset`). */
interface RecordChange {
  call_id: string;
  patch: CallRecordPatch;
  expected: CallStatus | null;
  holder: string | null;
  lease_ms: number | null;
}

interface QueuedUpdate {
  change: RecordChange;
  resolve: (changed: boolean) => void;
  reject: (error: unknown) => void;
}

/** New calls created in one transaction, at most. */
const MAX_CLAIM_BATCH = 64;

interface QueuedCreation {
  record: CallRecord;
  announcement: Announcement;
  resolve: (created: boolean) => void;
  reject: (error: unknown) => void;
}

/** A claim that lost a race on a unique constraint is matched again, this many times at most. */
const CLAIM_TRIES = 3;
const UNIQUE_VIOLATION = '23505';

/** What the claim's look-up finds: each id of each call the announcement may belong to. */
interface HolderRow {
  call: number;
  pair_key: string | null;
  record: CallRecord;
  surface: SurfaceName;
  id: string;
}

/**
 * Call records and the API's rule set in PostgreSQL, shared by every instance on the same
 * database. Each record is one `jsonb` document: `update` merges the patch's top-level fields
 * into it in one statement, so fields that later releases add to `CallRecord` need no schema
 * change, and no write overwrites a field another instance changed meanwhile.
 *
 * One decision per physical call, across instances: a claim locks the announcement's id and
 * its physical-call key (transaction-level advisory locks) before it looks, so two twins
 * arriving at two instances are matched one after the other; unique constraints (one record
 * per key, one id per surface, one announcement per surface of a call) are the guarantee
 * should anything get past the locks.
 */
export class PostgresCallStore implements CallStore {
  private creations: QueuedCreation[] = [];
  private creating?: Promise<void>;
  private creationScheduled = false;
  private updates: QueuedUpdate[] = [];
  private updating?: Promise<void>;
  private updateScheduled = false;

  private constructor(
    private readonly db: PostgresDatabase,
    private readonly channel: string,
  ) {}

  /** Connects and migrates; a database that cannot be used throws `StoreOpenError` naming it. */
  static async open(options: PostgresCallStoreOptions): Promise<PostgresCallStore> {
    const db = await PostgresDatabase.open({
      url: options.url,
      name: 'call store',
      component: 'calls',
      migrations: CALL_MIGRATIONS,
      routines: CALL_ROUTINES,
      poolSize: options.poolSize,
    });
    // Channels are database-wide: the schema's name keeps two schemas' instances apart.
    return new PostgresCallStore(db, `switchboard_rules:${db.schema}`.slice(0, 63));
  }

  /**
   * A call nothing is known of (the common case) is created by `createIfUnknown`, with the
   * other new calls of the same moment, in one round trip for them all. When the look-up finds
   * something (a twin, a redelivery, a resumed run), nothing was written, and the claim is made
   * in two: the locks and the look-up, then the write the matcher chooses with its COMMIT. In
   * those two, values are quoted by the driver (`escapeLiteral`): the simple query protocol,
   * which lets several statements go in one round trip, takes no parameters.
   */
  async claim(
    record: CallRecord,
    announcement: Announcement,
    arrival: SurfaceArrival,
  ): Promise<ClaimResult> {
    if (await this.createIfUnknown(record, announcement)) return { outcome: 'created' };
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.withClient((client) =>
          this.claimOn(client, record, announcement, arrival),
        );
      } catch (error) {
        // Another instance recorded a conflicting announcement without sharing a lock with this
        // one (a third announcement of one call): match again, seeing it.
        if (attempt >= CLAIM_TRIES || (error as { code?: string }).code !== UNIQUE_VIOLATION)
          throw error;
      }
    }
  }

  /**
   * Creates the record when no call holds the announcement's id, its record's name or its
   * physical-call key: what `matchAnnouncement` makes of an empty look-up (`first`, with the
   * key). False: something was found and nothing was written (or the batch it went in failed
   * for a statement's fault: the claim is then made alone). The creations asked for in one
   * turn of the event loop, and those that arrive while a batch is in flight, go in one
   * transaction of one round trip, which locks every id and key of the batch (in one order, as
   * every claim does) before it looks.
   */
  private createIfUnknown(record: CallRecord, announcement: Announcement): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.creations.push({ record, announcement, resolve, reject });
      if (!this.creating && !this.creationScheduled) {
        this.creationScheduled = true;
        setImmediate(() => {
          this.creationScheduled = false;
          if (!this.creating) void this.flushCreations();
        });
      }
    });
  }

  private flushCreations(): Promise<void> {
    // Each id, name and key at most once in a batch: a twin or a copy that arrived in the same
    // moment goes in the next, which sees the first one's record.
    const batch: QueuedCreation[] = [];
    const later: QueuedCreation[] = [];
    const named = new Set<string>();
    for (const creation of this.creations) {
      const { record, announcement } = creation;
      const names = [`i:${announcement.id}`, `n:${record.call_id}`];
      if (announcement.pairKey !== undefined) names.push(`k:${announcement.pairKey}`);
      if (batch.length >= MAX_CLAIM_BATCH || names.some((name) => named.has(name)))
        later.push(creation);
      else {
        for (const name of names) named.add(name);
        batch.push(creation);
      }
    }
    this.creations = later;
    if (batch.length === 0) return Promise.resolve();
    this.creating = this.createBatch(batch).finally(() => {
      this.creating = undefined;
      if (this.creations.length > 0) void this.flushCreations();
    });
    return this.creating;
  }

  private async createBatch(batch: QueuedCreation[]): Promise<void> {
    let created: Set<string>;
    try {
      created = await this.createAll(batch);
    } catch (error) {
      // A database fault fails them all; a statement's fault (a unique constraint: another
      // instance got past the locks) sends each to the claim that looks first.
      for (const creation of batch)
        if (isStoreFault(error)) creation.reject(error);
        else creation.resolve(false);
      return;
    }
    for (const creation of batch) creation.resolve(created.has(creation.record.call_id));
  }

  /** The names of the records created (`switchboard_create_calls_v1`, in `call-routines.ts`). */
  private async createAll(batch: QueuedCreation[]): Promise<Set<string>> {
    const input = batch.map(({ record, announcement }, ord) => ({
      ord,
      call_id: record.call_id,
      status: record.status,
      record,
      pair_key: announcement.pairKey ?? null,
      surface: announcement.surface,
      id: announcement.id,
    }));
    const keys = lockKeys(batch.map((creation) => creation.announcement));
    const rows = await this.db.prepared<{ call_id: string }>(CREATE_CALLS, [
      keys.map(String),
      JSON.stringify(input),
    ]);
    return new Set(rows.map((row) => row.call_id));
  }

  private async claimOn(
    client: PoolClient,
    record: CallRecord,
    announcement: Announcement,
    arrival: SurfaceArrival,
  ): Promise<ClaimResult> {
    const text = (value: string | undefined) =>
      value === undefined ? 'NULL' : client.escapeLiteral(value);
    const opened = (await client.query(
      `BEGIN; ${lockStatements(announcement)}
       WITH found AS (
         SELECT call FROM call_ids WHERE id = ${text(announcement.id)}
         UNION SELECT id FROM calls WHERE pair_key = ${text(announcement.pairKey)}
       )
       SELECT c.id AS call, c.pair_key, c.record, i.surface, i.id
       FROM found f JOIN calls c ON c.id = f.call JOIN call_ids i ON i.call = c.id`,
    )) as unknown as QueryResult<HolderRow>[];
    const rows = opened[opened.length - 1].rows;
    const match = matchAnnouncement(announcement, indexOf(rows));
    if (match.kind === 'seen') {
      await client.query('COMMIT');
      return { outcome: 'seen', record: rows.find((row) => row.call === match.call)!.record };
    }
    if (match.kind === 'twin') {
      const existing = rows.find((row) => row.call === match.call)!.record;
      const first = Date.parse(existing.timings.received_at);
      const twin: SurfaceArrival = {
        ...arrival,
        after_first_ms: Math.max(0, Date.parse(arrival.received_at) - first),
        paired_by: match.by,
      };
      // Only `surfaces` changes: whatever else the decider wrote meanwhile stays.
      const [updated] = (await client.query(
        `WITH ids AS (
           INSERT INTO call_ids (surface, id, call)
           VALUES (${text(announcement.surface)}, ${text(announcement.id)}, ${match.call})
         )
         UPDATE calls SET record = jsonb_set(record, '{surfaces}',
           coalesce(record -> 'surfaces', '{}'::jsonb)
             || jsonb_build_object(${text(announcement.surface)}::text, ${text(JSON.stringify(twin))}::jsonb))
         WHERE id = ${match.call} RETURNING record; COMMIT`,
      )) as unknown as QueryResult<{ record: CallRecord }>[];
      return { outcome: 'twin', record: updated.rows[0].record };
    }
    const created = match.note ? { ...record, pairing_note: match.note } : record;
    await client.query(
      `WITH c AS (
         INSERT INTO calls (call_id, status, record, pair_key)
         VALUES (${text(record.call_id)}, ${text(record.status)}, ${text(JSON.stringify(created))}::jsonb, ${text(match.pairKey)})
         RETURNING id
       )
       INSERT INTO call_ids (surface, id, call)
       SELECT ${text(announcement.surface)}, ${text(announcement.id)}, id FROM c; COMMIT`,
    );
    return { outcome: 'created' };
  }

  /**
   * One statement per record: the compare-and-set on the status, the merge and the lease are
   * atomic. The updates asked for in one turn of the event loop (and those that arrive while a
   * batch is in flight) go in one statement, each record at most once in it: a second update of
   * the same record waits for the next, so that each record's updates apply in the order asked.
   */
  update(
    callId: string,
    patch: CallRecordPatch,
    expected?: CallStatus,
    hold?: SidebandHold,
  ): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.updates.push({
        change: {
          call_id: callId,
          patch,
          expected: expected ?? null,
          holder: hold?.holder ?? null,
          lease_ms: hold?.leaseMs ?? null,
        },
        resolve,
        reject,
      });
      if (!this.updating && !this.updateScheduled) {
        this.updateScheduled = true;
        setImmediate(() => {
          this.updateScheduled = false;
          if (!this.updating) void this.flushUpdates();
        });
      }
    });
  }

  private flushUpdates(): Promise<void> {
    const batch: QueuedUpdate[] = [];
    const later: QueuedUpdate[] = [];
    const named = new Set<string>();
    for (const update of this.updates) {
      if (batch.length >= MAX_UPDATE_BATCH || named.has(update.change.call_id)) later.push(update);
      else {
        named.add(update.change.call_id);
        batch.push(update);
      }
    }
    this.updates = later;
    if (batch.length === 0) return Promise.resolve();
    this.updating = this.applyOrSplit(batch).finally(() => {
      this.updating = undefined;
      if (this.updates.length > 0) void this.flushUpdates();
    });
    return this.updating;
  }

  /**
   * One statement for the batch. Should it fail for one update's fault (a patch PostgreSQL
   * refuses, such as text holding U+0000), each is tried alone, so that only its caller fails;
   * a fault of the database fails them all.
   */
  private async applyOrSplit(batch: QueuedUpdate[]): Promise<void> {
    try {
      const changed = await this.applyUpdates(batch.map((update) => update.change));
      for (const update of batch) update.resolve(changed.has(update.change.call_id));
      return;
    } catch (error) {
      if (batch.length === 1 || isStoreFault(error)) {
        for (const update of batch) update.reject(error);
        return;
      }
    }
    for (const update of batch) {
      try {
        update.resolve((await this.applyUpdates([update.change])).has(update.change.call_id));
      } catch (error) {
        update.reject(error);
      }
    }
  }

  /** The names of the records changed. */
  private async applyUpdates(changes: RecordChange[]): Promise<Set<string>> {
    const rows = await this.db.prepared<{ call_id: string }>(UPDATE_CALLS, [
      JSON.stringify(changes),
    ]);
    return new Set(rows.map((row) => row.call_id));
  }

  /**
   * One statement for all of `callIds`. Times are the database's clock (`NOW_MS`), which every
   * instance shares, so no instance's clock skew shortens another's lease.
   */
  async holdSidebands(holder: string, callIds: string[], leaseMs: number | null) {
    if (callIds.length === 0) return [];
    const rows = await this.db.query<{ call_id: string }>(
      leaseMs === null
        ? `UPDATE calls SET sideband_holder = NULL, sideband_lease_until = NULL
           WHERE call_id = ANY($1) AND sideband_holder = $2 RETURNING call_id`
        : `UPDATE calls SET sideband_holder = $2, sideband_lease_until = ${NOW_MS} + $3
           WHERE call_id = ANY($1) AND (sideband_holder IS NULL OR sideband_holder = $2)
           RETURNING call_id`,
      leaseMs === null ? [callIds, holder] : [callIds, holder, leaseMs],
    );
    return rows.map((row) => row.call_id);
  }

  /**
   * Compare-and-set across instances: the rows are locked as they are chosen, and one locked by
   * another adopter is skipped (`SKIP LOCKED`), so each expired call goes to one instance.
   */
  async adoptSidebands(holder: string, leaseMs: number, limit: number): Promise<CallRecord[]> {
    if (limit <= 0) return [];
    const rows = await this.db.query<{ record: CallRecord }>(
      `UPDATE calls c SET sideband_holder = $1, sideband_lease_until = ${NOW_MS} + $2
       FROM (SELECT id FROM calls WHERE sideband_lease_until IS NOT NULL
               AND sideband_lease_until <= ${NOW_MS} AND status = 'completed'
               AND record -> 'ended' IS NULL
             ORDER BY sideband_lease_until LIMIT $3 FOR UPDATE SKIP LOCKED) expired
       WHERE c.id = expired.id RETURNING c.record`,
      [holder, leaseMs, limit],
    );
    return rows.map((row) => row.record);
  }

  async appendOperatorAction(
    callId: string,
    action: OperatorAction,
  ): Promise<CallRecord | undefined> {
    const [row] = await this.db.query<{ record: CallRecord }>(
      `UPDATE calls SET record = jsonb_set(record, '{operator_actions}',
         coalesce(record -> 'operator_actions', '[]'::jsonb) || jsonb_build_array($2::jsonb))
       WHERE call_id = $1 RETURNING record`,
      [callId, JSON.stringify(action)],
    );
    return row?.record;
  }

  async get(id: string): Promise<CallRecord | undefined> {
    const [row] = await this.db.query<{ record: CallRecord }>(
      `(SELECT 1 AS k, record FROM calls WHERE call_id = $1)
       UNION ALL (SELECT 2, c.record FROM call_ids i JOIN calls c ON c.id = i.call WHERE i.id = $1 LIMIT 1)
       ORDER BY k LIMIT 1`,
      [id],
    );
    return row?.record;
  }

  async list(query: { before?: number; limit: number; status?: CallStatus }) {
    const rows = await this.db.query<{ id: number; record: CallRecord }>(
      `SELECT id, record FROM calls WHERE id < $1 AND ($2::text IS NULL OR status = $2)
       ORDER BY id DESC LIMIT $3`,
      [query.before ?? Number.MAX_SAFE_INTEGER, query.status ?? null, query.limit],
    );
    return {
      records: rows.map((row) => row.record),
      cursor: rows.length === query.limit ? rows[rows.length - 1].id : undefined,
    };
  }

  async loadRuleSet(): Promise<StoredRuleSet | undefined> {
    const [row] = await this.db.query<{ document: string; version: string; updated_at: string }>(
      `SELECT document, version, updated_at FROM rule_sets WHERE name = 'active'`,
    );
    return row
      ? {
          document: JSON.parse(row.document) as unknown,
          version: row.version,
          updated_at: row.updated_at,
        }
      : undefined;
  }

  /**
   * Compare-and-swap in one statement, whichever instance saves: the stored version must be
   * `expected`. The save notifies every instance (`watchRuleSet`) when it commits.
   */
  async saveRuleSet(
    document: unknown,
    version: string,
    expected: string | undefined,
  ): Promise<boolean> {
    const params = [JSON.stringify(document), version, new Date().toISOString(), this.channel];
    const rows = await this.db.query(
      expected === undefined
        ? `WITH saved AS (
             INSERT INTO rule_sets (name, document, version, updated_at)
             VALUES ('active', $1, $2, $3) ON CONFLICT (name) DO NOTHING RETURNING version
           )
           SELECT pg_notify($4, version) FROM saved`
        : `WITH saved AS (
             UPDATE rule_sets SET document = $1, version = $2, updated_at = $3
             WHERE name = 'active' AND version = $5 RETURNING version
           )
           SELECT pg_notify($4, version) FROM saved`,
      expected === undefined ? params : [...params, expected],
    );
    return rows.length > 0;
  }

  /**
   * Calls `changed` when any instance saves a rule set, and each time the notification
   * connection is (again) listening: a save may have been missed before: the caller reloads.
   */
  watchRuleSet(changed: () => void): () => void {
    const listener = this.db.listen(this.channel, changed, changed);
    return () => void this.db.unlisten(listener);
  }

  checkReady(): Promise<StoreReadiness> {
    return this.db.checkReady();
  }

  /** Nothing to check at open beyond what `open` did: the server answered and migrated. */
  async checkIntegrity(): Promise<void> {}

  async close(): Promise<void> {
    // The claims and updates asked for before the close are made (or fail) first.
    while (this.creating || this.creations.length > 0)
      await (this.creating ?? this.flushCreations());
    while (this.updating || this.updates.length > 0) await (this.updating ?? this.flushUpdates());
    await this.db.close();
  }
}

/** The matcher's view of what the look-up found (inside the claim's transaction). */
function indexOf(rows: HolderRow[]): TwinIndex {
  return {
    callsWithId: (id) =>
      rows.filter((row) => row.id === id).map(({ call, surface }) => ({ call, surface })),
    callWithPairKey: (key) => rows.find((row) => row.pair_key === key)?.call,
    surfacesOf: (call) => rows.filter((row) => row.call === call).map((row) => row.surface),
  };
}

/**
 * Transaction-level advisory locks on the announcement's id and physical-call key, in a fixed
 * order (no deadlock between two claims taking both). The keys are 64-bit hashes computed
 * here (numbers: nothing to quote), and the statements go out with the BEGIN.
 */
function lockStatements(announcement: Announcement): string {
  return lockKeys([announcement])
    .map((key) => `SELECT pg_advisory_xact_lock(${key.toString()});`)
    .join(' ');
}

/** The advisory lock keys of the announcements' ids and physical-call keys, sorted. */
function lockKeys(announcements: readonly Announcement[]): bigint[] {
  const names = new Set<string>();
  for (const announcement of announcements) {
    names.add(`switchboard.call-id:${announcement.id}`);
    if (announcement.pairKey !== undefined)
      names.add(`switchboard.call-key:${announcement.pairKey}`);
  }
  return [...names]
    .map((name) => createHash('sha256').update(name).digest().readBigInt64BE(0))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
