import { DiscoveryService } from '@nestjs/core';
import { KnownWebhookEventType } from '../../events/webhook-event-types';

/** An exact type, a prefix wildcard (`batch.*`, `call.*`) or `*` for every event. */
export type WebhookEventPattern = KnownWebhookEventType | `${string}.*` | '*' | (string & {});

export interface WebhookHandlerOptions {
  /**
   * Lower runs first. Handlers of the same priority run concurrently; the next priority
   * starts when they have all settled. The calls module uses this so that a ringing call is
   * answered before anything else touches the event. Default 0.
   */
  priority?: number;
  /** Attempts before the run is marked failed; overrides the module's `handlerMaxAttempts`. */
  maxAttempts?: number;
}

export interface WebhookHandlerMetadata extends WebhookHandlerOptions {
  patterns: string[];
}

const OnWebhookEventDecorator = DiscoveryService.createDecorator<WebhookHandlerMetadata>();

/**
 * Marks a provider method as a handler for one or more event types. The method receives the
 * typed, validated DTO (for `realtime.call.incoming`, a `RealtimeCallIncomingEvent`) and a
 * `WebhookEventContext`. Discovered at start-up in every module of the application.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class BatchNotifier {
 *   @OnWebhookEvent('batch.completed')
 *   async onBatchCompleted(event: BatchCompletedEvent) { ... }
 * }
 * ```
 */
export function OnWebhookEvent(
  patterns: WebhookEventPattern | WebhookEventPattern[],
  options: WebhookHandlerOptions = {},
): MethodDecorator {
  const list = Array.isArray(patterns) ? patterns : [patterns];
  for (const pattern of list) {
    if (!isValidPattern(pattern)) {
      throw new Error(
        `@OnWebhookEvent: "${pattern}" is not an event type, a "prefix.*" wildcard or "*"`,
      );
    }
  }
  return OnWebhookEventDecorator({ ...options, patterns: [...list] });
}

OnWebhookEvent.KEY = OnWebhookEventDecorator.KEY;
OnWebhookEvent.discoverable = OnWebhookEventDecorator;

const PATTERN = /^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$/i;

function isValidPattern(pattern: string): boolean {
  return PATTERN.test(pattern);
}

/** Whether an event type matches a handler pattern. */
export function matchesPattern(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}
