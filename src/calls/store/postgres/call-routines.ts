/**
 * The call store's server functions, created (or replaced) at each open by `migrate`. As in the
 * event store (`event-routines.ts`, which says why): the body of a released `..._vN` never
 * changes, and the planner is held to probing the indexes, one lookup per row of the batch.
 */
const INDEX_PROBES_ONLY = `SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off
SET enable_material = off`;

export const CALL_ROUTINES = `
CREATE OR REPLACE FUNCTION switchboard_create_calls_v1(lock_keys bigint[], batch jsonb)
RETURNS SETOF text
LANGUAGE plpgsql
${INDEX_PROBES_ONLY}
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
    WHERE NOT EXISTS (SELECT 1 FROM call_ids x WHERE x.id = i.id)
      AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.call_id = i.call_id)
      AND (i.pair_key IS NULL OR NOT EXISTS (SELECT 1 FROM calls c WHERE c.pair_key = i.pair_key))
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
$fn$;

CREATE OR REPLACE FUNCTION switchboard_update_calls_v1(changes jsonb)
RETURNS SETOF text
LANGUAGE plpgsql
${INDEX_PROBES_ONLY}
AS $fn$
-- Each change, at most one per record: the compare-and-set on the status, the merge of the
-- patch's top-level fields, and the sideband lease when the change names a holder and nobody
-- else holds the call's sideband (times by the database's clock, which all instances share).
BEGIN
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
  WHERE c.call_id = k.call_id AND (k.expected IS NULL OR c.status = k.expected)
  RETURNING c.call_id;
END
$fn$;
`;

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
