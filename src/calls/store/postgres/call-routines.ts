import { Routine } from '../../../common/postgres/postgres-migrations';

/**
 * The call store's server functions, created by `migrate` when the schema lacks them. As in the
 * event store (`event-routines.ts`, which says why): the body of a released `..._vN` never
 * changes, and the tables are read by probing an index, one probe per row of the batch.
 */
export const CALL_ROUTINES: readonly Routine[] = [
  {
    name: 'switchboard_create_calls_v1',
    sql: `
CREATE FUNCTION switchboard_create_calls_v1(lock_keys bigint[], batch jsonb)
RETURNS SETOF text
LANGUAGE plpgsql
SET enable_seqscan = off
AS $fn$
-- One statement, so one implicit transaction: the advisory locks of every id and key of the
-- batch (sorted by the caller: the order every claim takes them in), then the calls that no
-- id, name or key holds yet, created with their first id.
DECLARE
  lock_key bigint;
BEGIN
  FOREACH lock_key IN ARRAY lock_keys LOOP
    PERFORM pg_advisory_xact_lock(lock_key);
  END LOOP;
  RETURN QUERY
  WITH input AS (
    SELECT * FROM jsonb_to_recordset(batch)
      AS t(ord int, call_id text, status text, record jsonb, pair_key text, surface text, id text)
  ), fresh AS (
    SELECT i.* FROM input i
    WHERE (SELECT x.call FROM call_ids x WHERE x.id = i.id LIMIT 1) IS NULL
      AND (SELECT c.id FROM calls c WHERE c.call_id = i.call_id) IS NULL
      AND (i.pair_key IS NULL OR (SELECT c.id FROM calls c WHERE c.pair_key = i.pair_key) IS NULL)
  ), created AS (
    INSERT INTO calls (call_id, status, record, pair_key)
    SELECT f.call_id, f.status, f.record, f.pair_key FROM fresh f ORDER BY f.ord
    RETURNING calls.id, calls.call_id
  ), ids AS (
    INSERT INTO call_ids (surface, id, call)
    SELECT f.surface, f.id, c.id FROM created c JOIN fresh f ON f.call_id = c.call_id
  )
  SELECT c.call_id FROM created c;
END
$fn$`,
  },
  {
    name: 'switchboard_update_calls_v1',
    sql: `
CREATE FUNCTION switchboard_update_calls_v1(changes jsonb)
RETURNS SETOF text
LANGUAGE plpgsql
SET enable_seqscan = off
AS $fn$
-- Each change, at most one per record: the compare-and-set on the status, the merge of the
-- patch's top-level fields, and the sideband lease when the change names a holder and nobody
-- else holds the call's sideband (times by the database's clock, which all instances share).
DECLARE
  names text[];
BEGIN
  SELECT coalesce(array_agg(k ->> 'call_id'), '{}') INTO names
  FROM jsonb_array_elements(changes) k;
  RETURN QUERY
  UPDATE calls c SET record = c.record || k.patch,
    status = coalesce(k.patch ->> 'status', c.status),
    sideband_holder = CASE
      WHEN k.holder IS NOT NULL AND (c.sideband_holder IS NULL OR c.sideband_holder = k.holder)
      THEN k.holder ELSE c.sideband_holder END,
    sideband_lease_until = CASE
      WHEN k.holder IS NOT NULL AND (c.sideband_holder IS NULL OR c.sideband_holder = k.holder)
      THEN (extract(epoch FROM clock_timestamp()) * 1000)::bigint + k.lease_ms
      ELSE c.sideband_lease_until END
  FROM jsonb_to_recordset(changes)
    AS k(call_id text, patch jsonb, expected text, holder text, lease_ms bigint)
  WHERE c.call_id = ANY (names) AND c.call_id = k.call_id
    AND (k.expected IS NULL OR c.status = k.expected)
  RETURNING c.call_id;
END
$fn$`,
  },
];

/** New calls of one moment: the batch's lock keys (sorted) and its calls, as a JSON array. */
export const CREATE_CALLS = {
  name: 'switchboard_create_calls_v1',
  text: 'SELECT call_id FROM switchboard_create_calls_v1($1::int8[], $2::jsonb) AS created(call_id)',
};

/** Record updates, a JSON array of `RecordChange`, at most one per record. */
export const UPDATE_CALLS = {
  name: 'switchboard_update_calls_v1',
  text: 'SELECT call_id FROM switchboard_update_calls_v1($1::jsonb) AS updated(call_id)',
};
