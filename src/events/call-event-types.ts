import { UnknownWebhookEventDto } from './unknown-webhook-event.dto';

/**
 * Switchboard's own call lifecycle events, published by the calls module through the same store,
 * dispatch and stream as OpenAI's webhooks. Named here, beside OpenAI's types, so that handler
 * patterns such as `call.accepted` or `call.*` are checked like any other type.
 */
export const CALL_EVENTS = {
  routed: 'call.routed',
  accepted: 'call.accepted',
  rejected: 'call.rejected',
  referred: 'call.referred',
  notFound: 'call.not_found',
  actionFailed: 'call.action_failed',
  hungUp: 'call.hung_up',
  // The call after it is answered (the sideband, src/calls/sideband/).
  answered: 'call.answered',
  transcript: 'call.transcript',
  toolCalled: 'call.tool_called',
  transferred: 'call.transferred',
  dtmf: 'call.dtmf',
  ended: 'call.ended',
} as const;

export type CallEventType = (typeof CALL_EVENTS)[keyof typeof CALL_EVENTS];

export const CALL_EVENT_TYPES = Object.values(CALL_EVENTS) as CallEventType[];

/** `data` of every call lifecycle event; the rest depends on the event (see the README). */
export interface CallEventData {
  call_id: string;
  /** `true` when no OpenAI API key is set: decided and recorded, but not sent to OpenAI. */
  dry_run?: boolean;
  [field: string]: unknown;
}

/**
 * A call lifecycle event as a handler receives it: parsed like an event of a type OpenAI does
 * not send, so it is an `UnknownWebhookEventDto` instance, with its `type` and `data` known.
 */
export interface CallEvent<T extends CallEventType = CallEventType> extends UnknownWebhookEventDto {
  type: T;
  data: CallEventData;
}
