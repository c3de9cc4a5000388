import { Migration } from '../../../common/postgres/postgres-migrations';

/**
 * The call store's schema, one step per release that changed it. A released step is never
 * edited: a change is a new step. The record itself is one JSON document (`jsonb`), patched as
 * a whole document, so that a field a later release adds to `CallRecord` needs no migration;
 * columns exist only for what is looked up or constrained.
 */
export const CALL_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'call records keyed by physical call, their ids per surface, the rule set',
    sql: `
CREATE TABLE calls (
  id bigserial PRIMARY KEY,
  -- The id of the call's first announcement: the record's name.
  call_id text NOT NULL UNIQUE,
  -- A copy of record->>'status', kept in the same statement, for the list filter.
  status text NOT NULL,
  -- The physical call's key (SIP Call-ID, From, To): one record per key, across instances.
  pair_key text,
  record jsonb NOT NULL
);
CREATE UNIQUE INDEX calls_pair_key ON calls (pair_key) WHERE pair_key IS NOT NULL;
CREATE INDEX calls_status ON calls (status, id);

-- Each surface's id of a call; a record is found by either.
CREATE TABLE call_ids (
  surface text NOT NULL,
  id text NOT NULL,
  call bigint NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
  PRIMARY KEY (surface, id)
);
CREATE INDEX call_ids_by_id ON call_ids (id);
-- One INVITE is announced once per surface: a call holds at most one id per surface.
CREATE UNIQUE INDEX call_ids_one_per_surface ON call_ids (call, surface);

-- The API-managed rule set. The document is kept as the text it was saved as (json keeps key
-- order, which GET /rules shows); its version is the hash of its canonical form.
CREATE TABLE rule_sets (
  name text PRIMARY KEY,
  document text NOT NULL,
  version text NOT NULL,
  updated_at text NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'sideband leases: who holds the sideband of an answered call, until when',
    sql: `
-- Until when (ms since the epoch, by the database's clock) the holder keeps the call's sideband;
-- looked up by expiry to adopt the calls of a dead instance; dropped when the call ends.
ALTER TABLE calls ADD COLUMN sideband_holder text;
ALTER TABLE calls ADD COLUMN sideband_lease_until bigint;
CREATE INDEX calls_sideband_lease ON calls (sideband_lease_until)
  WHERE sideband_lease_until IS NOT NULL;
`,
  },
];
