import { AGENT_SESSION_EVENTS } from '../agent-session/dto/agent-session-events.dto';
import { BATCH_EVENTS } from '../batch/dto/batch-events.dto';
import { EVAL_RUN_EVENTS } from '../eval-run/dto/eval-run-events.dto';
import { FINE_TUNING_EVENTS } from '../fine-tuning/dto/fine-tuning-events.dto';
import { LIVE_CALL_EVENTS } from '../live-call/dto/live-call-events.dto';
import { LIVE_CALL_INTAKES } from '../live-call/live-call-intake';
import { REALTIME_CALL_EVENTS } from '../realtime-call/dto/realtime-call-incoming.dto';
import { REALTIME_CALL_INTAKES } from '../realtime-call/call-event-intake';
import type { EventIntake } from './event-intake';
import { RESPONSE_EVENTS } from '../response/dto/response-events.dto';
import { SAFETY_EVENTS } from '../safety/dto/safety-events.dto';

/**
 * The one place that maps an OpenAI event `type` to its DTO class. Each domain module owns
 * its DTOs; this table only joins them, so the union below stays exhaustive by construction.
 */
export const WEBHOOK_EVENT_DTOS = {
  ...AGENT_SESSION_EVENTS,
  ...BATCH_EVENTS,
  ...EVAL_RUN_EVENTS,
  ...FINE_TUNING_EVENTS,
  ...LIVE_CALL_EVENTS,
  ...REALTIME_CALL_EVENTS,
  ...RESPONSE_EVENTS,
  ...SAFETY_EVENTS,
} as const;

export type KnownWebhookEventType = keyof typeof WEBHOOK_EVENT_DTOS;

/** Discriminated union of the OpenAI events Switchboard knows, keyed by `type`. */
export type KnownWebhookEvent = {
  [K in KnownWebhookEventType]: InstanceType<(typeof WEBHOOK_EVENT_DTOS)[K]>;
}[KnownWebhookEventType];

/** The DTO instance for a given type, e.g. `WebhookEventOf<'batch.completed'>`. */
export type WebhookEventOf<K extends KnownWebhookEventType> = InstanceType<
  (typeof WEBHOOK_EVENT_DTOS)[K]
>;

export const KNOWN_WEBHOOK_EVENT_TYPES = Object.keys(WEBHOOK_EVENT_DTOS) as KnownWebhookEventType[];

export function isKnownWebhookEventType(type: string): type is KnownWebhookEventType {
  return Object.prototype.hasOwnProperty.call(WEBHOOK_EVENT_DTOS, type);
}

/**
 * Types that are not refused for what they can do without (see `EventIntake`): a ringing call,
 * on either surface. Every other type is validated whole and refused with 400 when it does not
 * fit its DTO.
 */
export const WEBHOOK_EVENT_INTAKES: Partial<Record<KnownWebhookEventType, EventIntake>> = {
  ...REALTIME_CALL_INTAKES,
  ...LIVE_CALL_INTAKES,
};
