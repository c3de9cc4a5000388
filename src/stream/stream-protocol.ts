import { matchesPattern } from '../webhooks/handlers/on-webhook-event.decorator';
import { StoredEvent } from '../webhooks/store/event-store';

/** What a client may send. */
export type ClientMessage =
  | { op: 'subscribe'; types?: string[]; call_ids?: string[]; since?: number }
  | { op: 'unsubscribe'; types?: string[]; call_ids?: string[] }
  | { op: 'ping' };

const TYPE_PATTERN = /^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$/i;
const CALL_ID = /^[\x21-\x7e]{1,200}$/;

/** Parses and checks one client message; the error names what is wrong. */
export function parseClientMessage(text: string): ClientMessage {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    throw new Error('not JSON: send {"op":"subscribe","types":["call.*"]}');
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    throw new Error('a message is a JSON object with an "op"');
  }
  const { op, types, call_ids: callIds, since } = message as Record<string, unknown>;
  if (op === 'ping') return { op };
  if (op !== 'subscribe' && op !== 'unsubscribe')
    throw new Error(`unknown op ${JSON.stringify(op)}: use subscribe, unsubscribe or ping`);
  const result: Extract<ClientMessage, { op: 'subscribe' | 'unsubscribe' }> = { op };
  if (types !== undefined)
    result.types = list(types, 'types', TYPE_PATTERN, 'an event type, "prefix.*" or "*"');
  if (callIds !== undefined) result.call_ids = list(callIds, 'call_ids', CALL_ID, 'a call id');
  if (since !== undefined) {
    if (
      op !== 'subscribe' ||
      typeof since !== 'number' ||
      !Number.isSafeInteger(since) ||
      since < 0
    ) {
      throw new Error('since must be a sequence number (a whole number >= 0) on subscribe');
    }
    (result as { since?: number }).since = since;
  }
  return result;
}

function list(value: unknown, name: string, pattern: RegExp, what: string): string[] {
  if (
    !Array.isArray(value) ||
    value.some((item) => typeof item !== 'string' || !pattern.test(item))
  ) {
    throw new Error(`${name} must be a list, each ${what}`);
  }
  return value as string[];
}

/** A client's filter: event types (exact or wildcard) and, optionally, call ids. */
export class StreamFilter {
  readonly types = new Set<string>();
  readonly callIds = new Set<string>();

  get size(): number {
    return this.types.size + this.callIds.size;
  }

  /** No call ids: every event of a matching type; else only those about one of the calls. */
  matches(type: string, callId: () => string | undefined): boolean {
    let typeMatches = false;
    for (const pattern of this.types) {
      if (matchesPattern(pattern, type)) {
        typeMatches = true;
        break;
      }
    }
    if (!typeMatches) return false;
    if (this.callIds.size === 0) return true;
    const id = callId();
    return id !== undefined && this.callIds.has(id);
  }
}

/** An event as sent. The payload is JSON text already: embedded, never parsed and re-serialised. */
export function serializeEvent(event: StoredEvent): string {
  return `{"type":"event","seq":${event.seq},"source":"${event.source}","event":${event.payload}}`;
}

/**
 * The call an event is about, for filters by call id: `data.call_id` (a Realtime announcement,
 * Switchboard's call events), or a Live announcement's `data.session_id`.
 */
export function eventCallId(payload: string): string | undefined {
  if (!payload.includes('"call_id"') && !payload.includes('"session_id"')) return undefined;
  try {
    const data = (JSON.parse(payload) as { data?: { call_id?: unknown; session_id?: unknown } })
      .data;
    const id = data?.call_id ?? data?.session_id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
/** What the server sends (the AsyncAPI document at /docs/asyncapi.json describes each). */
export type ServerMessage =
  | { type: 'subscribed'; types: string[]; call_ids: string[] }
  | { type: 'event'; seq: number; source: 'openai' | 'switchboard'; event: object }
  | { type: 'caught_up'; seq: number }
  | { type: 'pong'; seq: number }
  | { type: 'error'; message: string };
