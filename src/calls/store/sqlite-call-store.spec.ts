import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRecord, SurfaceArrival } from './call-store';
import { SqliteCallStore } from './sqlite-call-store';
import type { SurfaceName } from '../surfaces/surface-name';

function arrival(
  surface: SurfaceName,
  id: string,
  at = '2026-11-23T15:00:00.000Z',
): SurfaceArrival {
  return {
    id,
    event_type: surface === 'realtime' ? 'realtime.call.incoming' : 'live.transport.incoming',
    event_id: `evt_${id}`,
    event_seq: 1,
    received_at: at,
    after_first_ms: 0,
  };
}

function record(surface: SurfaceName, id: string): CallRecord {
  return {
    call_id: id,
    event_id: `evt_${id}`,
    event_seq: 1,
    sip_headers: [],
    status: 'acting',
    decision: {
      route: 'default',
      rule: null,
      action: { type: 'reject', status_code: 404 },
      captures: {},
      explanation: { matched: null, rules_before: [], skipped_by_index: 0 },
      rules_version: 'v1',
    },
    openai: null,
    timings: { received_at: '2026-11-23T15:00:00.000Z', decided_after_ms: 0 },
    operator_actions: [],
    surfaces: { [surface]: arrival(surface, id) },
  };
}

const claim = (store: SqliteCallStore, surface: SurfaceName, id: string, pairKey?: string) =>
  store.claim(
    record(surface, id),
    { surface, id, pairKey },
    arrival(surface, id, '2026-11-23T15:00:00.040Z'),
  );

describe('SqliteCallStore: one record per physical call', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'switchboard-call-store-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the first announcement, adds the twin to it, and recognises either seen again', async () => {
    const store = new SqliteCallStore(':memory:');
    expect(await claim(store, 'live', 'live_1', 'k')).toEqual({ outcome: 'created' });
    const twin = await claim(store, 'realtime', 'rtc_1', 'k');
    expect(twin).toMatchObject({
      outcome: 'twin',
      record: {
        call_id: 'live_1',
        surfaces: {
          live: { id: 'live_1' },
          realtime: { id: 'rtc_1', paired_by: 'sip_call_id', after_first_ms: 40 },
        },
      },
    });
    expect(await claim(store, 'realtime', 'rtc_1', 'k')).toMatchObject({ outcome: 'seen' });
    expect(await claim(store, 'live', 'live_1', 'k')).toMatchObject({ outcome: 'seen' });
    expect((await store.get('rtc_1'))?.call_id).toBe('live_1');
    expect((await store.get('live_1'))?.surfaces).toHaveProperty('realtime');
    expect((await store.list({ limit: 10 })).records).toHaveLength(1);
    await store.close();
  });

  it('changes a waiting record only while it is still waiting (compare-and-set)', async () => {
    const store = new SqliteCallStore(':memory:');
    await store.claim(
      { ...record('live', 'live_1'), status: 'waiting' },
      { surface: 'live', id: 'live_1' },
      arrival('live', 'live_1'),
    );
    expect(await store.update('live_1', { status: 'acting', surface: 'realtime' }, 'waiting')).toBe(
      true,
    );
    expect(await store.update('live_1', { status: 'acting', surface: 'live' }, 'waiting')).toBe(
      false,
    );
    expect((await store.get('live_1'))?.surface).toBe('realtime');
    expect(await store.update('nope', { status: 'failed' })).toBe(false);
    await store.close();
  });

  it('migrates a store written before twins: its records are kept, found, and their twins paired', async () => {
    const file = join(dir, 'calls.db');
    // The store as the previous version left it: one table, records without surfaces.
    const old = new Database(file);
    old.exec(`
      CREATE TABLE calls (id INTEGER PRIMARY KEY AUTOINCREMENT, call_id TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL, record TEXT NOT NULL);
      CREATE INDEX calls_status ON calls (status, id);
      CREATE TABLE rule_sets (name TEXT PRIMARY KEY, document TEXT NOT NULL, version TEXT NOT NULL,
        updated_at TEXT NOT NULL);`);
    const { surfaces: _surfaces, ...before } = record('realtime', 'rtc_old');
    old
      .prepare('INSERT INTO calls (call_id, status, record) VALUES (?, ?, ?)')
      .run('rtc_old', 'completed', JSON.stringify({ ...before, status: 'completed' }));
    old
      .prepare(
        `INSERT INTO rule_sets VALUES ('active', '{"rules":[]}', 'v0', '2026-11-01T00:00:00Z')`,
      )
      .run();
    old.close();

    const store = new SqliteCallStore(file);
    const migrated = await store.get('rtc_old');
    expect(migrated).toMatchObject({
      ...before,
      status: 'completed',
      surface: 'realtime',
      surfaces: {
        realtime: {
          id: 'rtc_old',
          event_type: 'realtime.call.incoming',
          event_id: 'evt_rtc_old',
          event_seq: 1,
          received_at: '2026-11-23T15:00:00.000Z',
          after_first_ms: 0,
        },
      },
    });
    expect(await store.loadRuleSet()).toMatchObject({ version: 'v0' });
    expect(await claim(store, 'realtime', 'rtc_old')).toMatchObject({ outcome: 'seen' });
    expect(await claim(store, 'live', 'rtc_old')).toMatchObject({ outcome: 'twin' });
    expect(await claim(store, 'realtime', 'rtc_new', 'k')).toEqual({ outcome: 'created' });
    await store.close();

    // Opened again, nothing is migrated twice.
    const again = new SqliteCallStore(file);
    expect((await again.list({ limit: 10 })).records.map((r) => r.call_id)).toEqual([
      'rtc_new',
      'rtc_old',
    ]);
    await again.close();
  });

  it('refuses, in one line, a store written by a newer version', () => {
    const file = join(dir, 'calls.db');
    const newer = new Database(file);
    newer.pragma('user_version = 99');
    newer.close();
    expect(() => new SqliteCallStore(file)).toThrow(
      /^the call store .*calls\.db cannot be opened: its schema is version 99, newer than this Switchboard knows \(1\)/,
    );
  });
});
