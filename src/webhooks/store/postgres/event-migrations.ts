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
];
