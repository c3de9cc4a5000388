import { Routine } from '../../../common/postgres/postgres-migrations';

/**
 * The event store's server functions, created by `migrate` when the schema lacks them. The body
 * of a released `..._vN` never changes: instances of several releases may share the database
 * and each calls the version it was written for, so a change is a new version beside the old.
 *
 * Why a function: sent as text, a batch is parsed and planned by the server each time; a
 * PL/pgSQL function prepares its statements once per connection. Why it reads the big tables
 * only by probing an index, one probe per row of the batch (a correlated subquery, which the
 * planner never turns into a join, or a key `= ANY` the batch's keys), with sequential scans
 * off: the batch arrives as `jsonb_to_recordset`, which the planner always takes for 100 rows,
 * and a table it has not analyzed yet (a new database, the first minute) for a few, so it had
 * chosen a hash join over a scan of the whole table for every batch, each batch costing more as
 * the table grew (measured: 2 ms at 2,400 events, 12 ms at 24,000). The batch's own rows are
 * not joined to each other (the planner, which takes each of them for one row, joined them by
 * comparing every pair: a full batch of 512 took 48 ms): each event brings its handlers.
 */
export const APPEND_BATCH_ROUTINE: Routine = {
  name: 'switchboard_append_batch_v1',
  sql: `
CREATE FUNCTION switchboard_append_batch_v1(doc jsonb)
RETURNS TABLE (appended_seq bigint, appended_ord bigint)
LANGUAGE plpgsql
SET enable_seqscan = off
AS $fn$
-- One statement, so one implicit transaction. With events: the counter's lock, then (each
-- statement with a snapshot of its own, taken after the lock) the fresh events numbered after
-- the counter, their pending runs held by the caller, the outcomes of runs, the counter moved,
-- and the NOTIFY (the last number and the instance), which goes out with the commit. Outcomes
-- alone take no lock.
DECLARE
  first_seq bigint;
  last_seq bigint;
  outcome_seqs bigint[];
BEGIN
  IF jsonb_array_length(doc -> 'events') > 0 THEN
    SELECT c.seq INTO first_seq FROM event_counter c WHERE c.id = 1 FOR UPDATE;
  END IF;
  SELECT coalesce(array_agg((o ->> 'seq')::bigint), '{}') INTO outcome_seqs
  FROM jsonb_array_elements(doc -> 'outcomes') o;
  RETURN QUERY
  WITH input AS (
    SELECT t.* FROM jsonb_to_recordset(doc -> 'events') AS t(ord bigint, webhook_id text,
      event_id text, type text, source text, payload text, received_at bigint, handlers jsonb)
  ),
  fresh AS (
    SELECT DISTINCT ON (i.webhook_id) i.* FROM input i
    WHERE (SELECT e.seq FROM events e WHERE e.webhook_id = i.webhook_id) IS NULL
    ORDER BY i.webhook_id, i.ord
  ),
  numbered AS (
    SELECT f.*, first_seq + row_number() OVER (ORDER BY f.ord) AS seq FROM fresh f
  ),
  -- Every fresh event is inserted (the counter's lock keeps other writers out): should one
  -- be there after all, the unique constraint fails the batch, whose writes are then tried
  -- one by one, rather than leaving a gap in the numbers.
  ins AS (
    INSERT INTO events (seq, webhook_id, event_id, type, source, payload, received_at)
    SELECT n.seq, n.webhook_id, n.event_id, n.type, n.source, n.payload, n.received_at
    FROM numbered n ORDER BY n.seq
  ),
  runs AS (
    INSERT INTO handler_runs (seq, handler, status, attempts, updated_at, lease_owner, lease_until)
    SELECT n.seq, h.handler, 'pending', 0, n.received_at, doc ->> 'instance',
      (extract(epoch FROM clock_timestamp()) * 1000)::int8 + (doc ->> 'lease_ms')::int8
    FROM numbered n CROSS JOIN LATERAL jsonb_array_elements_text(n.handlers) AS h(handler)
  ),
  outcomes AS (
    UPDATE handler_runs r SET status = k.status, attempts = r.attempts + 1, last_error = k.error,
      next_attempt_at = k.next_at, updated_at = (doc ->> 'now')::int8,
      lease_owner = CASE WHEN k.status = 'retrying' THEN r.lease_owner END,
      lease_until = CASE WHEN k.status = 'retrying'
        THEN (extract(epoch FROM clock_timestamp()) * 1000)::int8 + (doc ->> 'lease_ms')::int8 END
    FROM jsonb_to_recordset(doc -> 'outcomes')
      AS k(seq bigint, handler text, status text, error text, next_at bigint)
    WHERE r.seq = ANY (outcome_seqs) AND r.seq = k.seq AND r.handler = k.handler
      AND (r.lease_owner = doc ->> 'instance' OR r.lease_owner IS NULL)
  ),
  bump AS (
    UPDATE event_counter c SET seq = (SELECT max(n.seq) FROM numbered n)
    WHERE c.id = 1 AND EXISTS (SELECT 1 FROM numbered)
  )
  SELECT n.seq, n.ord FROM numbered n ORDER BY n.seq;
  IF first_seq IS NOT NULL THEN
    SELECT c.seq INTO last_seq FROM event_counter c WHERE c.id = 1;
    IF last_seq > first_seq THEN
      PERFORM pg_notify(doc ->> 'channel', last_seq::text || ':' || (doc ->> 'instance'));
    END IF;
  END IF;
END
$fn$`,
};

/** A batch of appends and outcomes (`AppendDocument`), as a statement prepared once per connection. */
export const APPEND_BATCH_CALL = {
  name: 'switchboard_append_batch_v1',
  text: 'SELECT appended_seq AS seq, appended_ord AS ord FROM switchboard_append_batch_v1($1::jsonb)',
};
