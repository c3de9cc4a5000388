/** Milliseconds since the epoch by the database's clock. */
export const NOW_MS = `(extract(epoch FROM clock_timestamp()) * 1000)::int8`;

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
