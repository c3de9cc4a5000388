import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callRecord as record, claim, describeCallStoreContract } from './call-store.contract';
import { SqliteCallStore } from './sqlite-call-store';

describeCallStoreContract('SqliteCallStore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-call-store-'));
  const filename = join(dir, 'calls.db');
  return {
    open: async () => new SqliteCallStore(filename),
    reopen: async () => new SqliteCallStore(filename),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('SqliteCallStore: its file and its schema', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'switchboard-call-store-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

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
      /^the call store .*calls\.db cannot be opened: its schema is version 99, newer than this Switchboard knows \(2\)/,
    );
  });
});
