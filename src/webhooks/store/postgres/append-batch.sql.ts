/** Milliseconds since the epoch by the database's clock. */
export const NOW_MS = `(extract(epoch FROM clock_timestamp()) * 1000)::int8`;

/**
 * The parts of `APPEND_BATCH`, given an `input`
 * of the batch's events with their `ord` and a `numbered` of the fresh ones: the first copy of
 * each webhook id not stored yet, their insert, and the counter moved to the last number used.
 */
const FRESH = `fresh AS (
  SELECT DISTINCT ON (i.webhook_id) i.* FROM input i
  WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.webhook_id = i.webhook_id)
  ORDER BY i.webhook_id, i.ord
),`;
const INSERTED = `ins AS (
  INSERT INTO events (seq, webhook_id, event_id, type, source, payload, received_at)
  SELECT seq, webhook_id, event_id, type, source, payload, received_at FROM numbered ORDER BY seq
  ON CONFLICT (webhook_id) DO NOTHING
  RETURNING seq
),`;
const BUMPED = `bump AS (
  UPDATE event_counter SET seq = (SELECT max(seq) FROM ins)
  WHERE id = 1 AND EXISTS (SELECT 1 FROM ins)
)`;

/**
 * One statement that appends a batch of events and their pending runs, given the counter value
 * read (and locked) just before, so that the statement's snapshot sees every event committed
 * before the lock was granted:
 * - `fresh`: the first copy of each webhook id that is not stored yet;
 * - `numbered`: consecutive sequence numbers after the counter, in arrival order;
 * - `ins`: the insert; ON CONFLICT is the guarantee should anything insert without the lock;
 * - `runs`: one pending run per handler of each inserted event, held by this instance;
 * - `bump`: the counter moves to the last number used.
 * Returns the inserted events' numbers and their position in the batch.
 */
export const APPEND_BATCH = appendBatch();

/** The usual batch (appends and outcomes), as a statement prepared once per connection. */
export const APPEND_BATCH_CALL = {
  name: 'switchboard_append_batch',
  text: 'SELECT appended_seq AS seq, appended_ord AS ord FROM switchboard_append_batch($1::jsonb)',
};

/**
 * The outcomes of several handler runs (each at most once) in one statement, its parameters
 * from `$at` on: the runs' seq, handler, status, error, next attempt, then the time of the
 * write, the lease of a run to retry, and this instance (only its runs, or nobody's, count).
 */
export function recordOutcomes(at: number): string {
  const $ = (i: number) => `$${at + i}`;
  return `UPDATE handler_runs r SET status = k.status, attempts = r.attempts + 1, last_error = k.error,
         next_attempt_at = k.next_at, updated_at = ${$(5)},
         lease_owner = CASE WHEN k.status = 'retrying' THEN r.lease_owner END,
         lease_until = CASE WHEN k.status = 'retrying' THEN ${NOW_MS} + ${$(6)}::int8 END
       FROM unnest(${$(0)}::int8[], ${$(1)}::text[], ${$(2)}::text[], ${$(3)}::text[], ${$(4)}::int8[])
         AS k(seq, handler, status, error, next_at)
       WHERE r.seq = k.seq AND r.handler = k.handler AND (r.lease_owner = ${$(7)} OR r.lease_owner IS NULL)`;
}

function appendBatch(): string {
  return `
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int8[])
    WITH ORDINALITY AS t(webhook_id, event_id, type, source, payload, received_at, ord)
),
${FRESH}
numbered AS (
  SELECT f.*, $7::int8 + row_number() OVER (ORDER BY f.ord) AS seq FROM fresh f
),
${INSERTED}
runs AS (
  INSERT INTO handler_runs (seq, handler, status, attempts, updated_at, lease_owner, lease_until)
  SELECT n.seq, h.handler, 'pending', 0, n.received_at, $10::text, ${NOW_MS} + $11::int8
  FROM ins JOIN numbered n ON n.seq = ins.seq
  JOIN unnest($8::int8[], $9::text[]) AS h(ord, handler) ON h.ord = n.ord
),
${BUMPED}
SELECT n.seq, n.ord FROM ins JOIN numbered n ON n.seq = ins.seq ORDER BY n.seq`;
}

/**
 * What `switchboard_append_batch(doc)` (the event store's migration 2) takes: a batch of appends
 * and outcomes of runs, as one JSON document, in one statement and so one transaction.
 */
export interface AppendDocument {
  events: {
    ord: number;
    webhook_id: string;
    event_id: string;
    type: string;
    source: string;
    payload: string;
    received_at: number;
  }[];
  runs: { ord: number; handler: string }[];
  outcomes: {
    seq: number;
    handler: string;
    status: string;
    error: string | null;
    next_at: number | null;
  }[];
  instance: string;
  lease_ms: number;
  now: number;
  channel: string;
}
