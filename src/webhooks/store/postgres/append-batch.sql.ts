/** Milliseconds since the epoch by the database's clock. */
export const NOW_MS = `(extract(epoch FROM clock_timestamp()) * 1000)::int8`;

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

function appendBatch(): string {
  return `
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int8[])
    WITH ORDINALITY AS t(webhook_id, event_id, type, source, payload, received_at, ord)
),
fresh AS (
  SELECT DISTINCT ON (i.webhook_id) i.* FROM input i
  WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.webhook_id = i.webhook_id)
  ORDER BY i.webhook_id, i.ord
),
numbered AS (
  SELECT f.*, $7::int8 + row_number() OVER (ORDER BY f.ord) AS seq FROM fresh f
),
ins AS (
  INSERT INTO events (seq, webhook_id, event_id, type, source, payload, received_at)
  SELECT seq, webhook_id, event_id, type, source, payload, received_at FROM numbered ORDER BY seq
  ON CONFLICT (webhook_id) DO NOTHING
  RETURNING seq
),
runs AS (
  INSERT INTO handler_runs (seq, handler, status, attempts, updated_at, lease_owner, lease_until)
  SELECT n.seq, h.handler, 'pending', 0, n.received_at, $10::text, ${NOW_MS} + $11::int8
  FROM ins JOIN numbered n ON n.seq = ins.seq
  JOIN unnest($8::int8[], $9::text[]) AS h(ord, handler) ON h.ord = n.ord
),
bump AS (
  UPDATE event_counter SET seq = (SELECT max(seq) FROM ins)
  WHERE id = 1 AND EXISTS (SELECT 1 FROM ins)
)
SELECT n.seq, n.ord FROM ins JOIN numbered n ON n.seq = ins.seq ORDER BY n.seq`;
}

/**
 * What `switchboard_append_batch_v1(doc)` (`event-routines.ts`) takes: a batch of appends and
 * outcomes of runs, as one JSON document, in one statement and so one transaction.
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
    /** The handlers that get a pending run of the event, held by `instance`. */
    handlers: readonly string[];
  }[];
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
