import Database from 'better-sqlite3';

/** The tables as the first version made them; every later change is a migration below. */
const BASE_SCHEMA = `
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

/**
 * Schema changes in order; `PRAGMA user_version` counts those applied. Each runs once, in the
 * same transaction as the version bump, and keeps every record already stored.
 */
const MIGRATIONS: readonly string[] = [
  // 1: one record per physical call, announced on one surface or both. Each surface's id of a
  // call is in call_ids (a record is found by either); pair_key is the physical call's key
  // (SIP Call-ID, From, To) its twin is matched by. Every existing record was a Realtime call:
  // its id goes into call_ids, and the record gets the fields a call now has.
  `
  ALTER TABLE calls ADD COLUMN pair_key TEXT;
  CREATE UNIQUE INDEX calls_pair_key ON calls (pair_key) WHERE pair_key IS NOT NULL;
  CREATE TABLE call_ids (
    surface TEXT NOT NULL,
    id TEXT NOT NULL,
    call INTEGER NOT NULL REFERENCES calls (id),
    PRIMARY KEY (surface, id)
  ) WITHOUT ROWID;
  CREATE INDEX call_ids_by_id ON call_ids (id);
  INSERT INTO call_ids (surface, id, call) SELECT 'realtime', call_id, id FROM calls;
  UPDATE calls SET record = json_set(
    record,
    '$.surfaces', json_object('realtime', json_object(
      'id', call_id,
      'event_type', 'realtime.call.incoming',
      'event_id', json_extract(record, '$.event_id'),
      'event_seq', json_extract(record, '$.event_seq'),
      'received_at', json_extract(record, '$.timings.received_at'),
      'after_first_ms', 0)),
    '$.surface', 'realtime');
  `,
  // 2: sideband leases (who holds the sideband of an answered call, until when, in ms since the
  // epoch): looked up by expiry to adopt the calls of a dead owner; dropped when the call ends.
  `
  ALTER TABLE calls ADD COLUMN sideband_holder TEXT;
  ALTER TABLE calls ADD COLUMN sideband_lease_until INTEGER;
  CREATE INDEX calls_sideband_lease ON calls (sideband_lease_until)
    WHERE sideband_lease_until IS NOT NULL;
  `,
];

export const CALL_STORE_SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Creates the tables of a new store, or brings an older one up to date. A store written by a
 * newer version is refused: its records may hold what this version would misread.
 */
export function migrateCallStore(db: Database.Database): void {
  db.exec(BASE_SCHEMA);
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new Error(
      `its schema is version ${version}, newer than this Switchboard knows (${MIGRATIONS.length}); run the newer version, or restore a backup`,
    );
  }
  for (let next = version; next < MIGRATIONS.length; next++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[next]);
      db.pragma(`user_version = ${next + 1}`);
    })();
  }
}
