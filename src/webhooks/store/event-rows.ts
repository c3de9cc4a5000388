import type { HandlerRun, StoredEvent } from './event-store';

/** An event as both stores keep it: one row, the same columns in SQLite and PostgreSQL. */
export interface EventRow {
  seq: number;
  webhook_id: string;
  event_id: string;
  type: string;
  source: 'openai' | 'switchboard';
  payload: string;
  received_at: number;
}

/** A handler run's row, the same in both stores. */
export interface RunRow {
  handler: string;
  status: HandlerRun['status'];
  attempts: number;
  last_error: string | null;
  next_attempt_at: number | null;
  updated_at: number;
}

export function toEvent(row: EventRow): StoredEvent {
  return {
    seq: row.seq,
    webhookId: row.webhook_id,
    eventId: row.event_id,
    type: row.type,
    source: row.source,
    payload: row.payload,
    receivedAt: row.received_at,
  };
}

export function toRun(row: RunRow): HandlerRun {
  return {
    handler: row.handler,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    nextAttemptAt: row.next_attempt_at,
    updatedAt: row.updated_at,
  };
}
