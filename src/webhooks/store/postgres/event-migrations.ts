import { Migration } from '../../../common/postgres/postgres-migrations';

/**
 * The event store's schema, one step per release that changed it. A released step is never
 * edited: a change is a new step.
 */
export const EVENT_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events, handler runs with leases, the sequence counter',
    sql: `
CREATE TABLE events (
  seq bigint PRIMARY KEY,
  webhook_id text NOT NULL,
  event_id text NOT NULL,
  -- Byte order, so that a type prefix (batch.*) is a range on the index, whatever the locale.
  type text COLLATE "C" NOT NULL,
  source text NOT NULL,
  payload text NOT NULL,
  received_at bigint NOT NULL,
  -- Deduplication across instances is this constraint, not a check before the insert.
  CONSTRAINT events_webhook_id_unique UNIQUE (webhook_id)
);
CREATE INDEX events_event_id ON events (event_id);
CREATE INDEX events_type_seq ON events (type, seq);
CREATE INDEX events_received_at ON events (received_at);

-- The last sequence number handed out. Appends lock this row for the rest of their
-- transaction, so numbers are given in commit order: a reader that sees seq N sees every
-- smaller one that will ever exist (no gap that a later commit fills).
CREATE TABLE event_counter (
  id integer PRIMARY KEY CHECK (id = 1),
  seq bigint NOT NULL
);
INSERT INTO event_counter (id, seq) VALUES (1, 0);

CREATE TABLE handler_runs (
  seq bigint NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
  handler text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'retrying', 'done', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  next_attempt_at bigint,
  updated_at bigint NOT NULL,
  -- The instance that runs it now, until when; another takes it over once the lease is past.
  lease_owner text,
  lease_until bigint,
  PRIMARY KEY (seq, handler)
);
CREATE INDEX handler_runs_open ON handler_runs (lease_until) WHERE status IN ('pending', 'retrying');
`,
  },
  {
    version: 2,
    name: 'appends and run outcomes of a batch in one call, its plans kept by the server',
    // One statement, so one implicit transaction: the counter's lock, then (each statement
    // with a snapshot of its own, taken after the lock) the fresh events numbered after the
    // counter, their pending runs held by the caller, the outcomes of runs, the counter moved,
    // and the NOTIFY (the last number and the instance), which goes out with the commit.
    // PL/pgSQL prepares each statement once per connection: the batch is not parsed and
    // planned again each time, as a query sent as text would be.
    sql: `
CREATE FUNCTION switchboard_append_batch(doc jsonb)
RETURNS TABLE (appended_seq bigint, appended_ord bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
  first_seq bigint;
  last_seq bigint;
BEGIN
  SELECT c.seq INTO first_seq FROM event_counter c WHERE c.id = 1 FOR UPDATE;
  RETURN QUERY
  WITH input AS (
    SELECT t.* FROM jsonb_to_recordset(doc -> 'events') AS t(ord bigint, webhook_id text,
      event_id text, type text, source text, payload text, received_at bigint)
  ),
  fresh AS (
    SELECT DISTINCT ON (i.webhook_id) i.* FROM input i
    WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.webhook_id = i.webhook_id)
    ORDER BY i.webhook_id, i.ord
  ),
  numbered AS (
    SELECT f.*, first_seq + row_number() OVER (ORDER BY f.ord) AS seq FROM fresh f
  ),
  ins AS (
    INSERT INTO events (seq, webhook_id, event_id, type, source, payload, received_at)
    SELECT n.seq, n.webhook_id, n.event_id, n.type, n.source, n.payload, n.received_at
    FROM numbered n ORDER BY n.seq
    ON CONFLICT (webhook_id) DO NOTHING
    RETURNING events.seq
  ),
  runs AS (
    INSERT INTO handler_runs (seq, handler, status, attempts, updated_at, lease_owner, lease_until)
    SELECT n.seq, h.handler, 'pending', 0, n.received_at, doc ->> 'instance',
      (extract(epoch FROM clock_timestamp()) * 1000)::int8 + (doc ->> 'lease_ms')::int8
    FROM ins JOIN numbered n ON n.seq = ins.seq
    JOIN jsonb_to_recordset(doc -> 'runs') AS h(ord bigint, handler text) ON h.ord = n.ord
  ),
  outcomes AS (
    UPDATE handler_runs r SET status = k.status, attempts = r.attempts + 1, last_error = k.error,
      next_attempt_at = k.next_at, updated_at = (doc ->> 'now')::int8,
      lease_owner = CASE WHEN k.status = 'retrying' THEN r.lease_owner END,
      lease_until = CASE WHEN k.status = 'retrying'
        THEN (extract(epoch FROM clock_timestamp()) * 1000)::int8 + (doc ->> 'lease_ms')::int8 END
    FROM jsonb_to_recordset(doc -> 'outcomes')
      AS k(seq bigint, handler text, status text, error text, next_at bigint)
    WHERE r.seq = k.seq AND r.handler = k.handler
      AND (r.lease_owner = doc ->> 'instance' OR r.lease_owner IS NULL)
  ),
  bump AS (
    UPDATE event_counter c SET seq = (SELECT max(ins.seq) FROM ins)
    WHERE c.id = 1 AND EXISTS (SELECT 1 FROM ins)
  )
  SELECT n.seq, n.ord FROM ins JOIN numbered n ON n.seq = ins.seq ORDER BY n.seq;
  SELECT c.seq INTO last_seq FROM event_counter c WHERE c.id = 1;
  IF last_seq > first_seq THEN
    PERFORM pg_notify(doc ->> 'channel', last_seq::text || ':' || (doc ->> 'instance'));
  END IF;
END
$fn$;
`,
  },
];
