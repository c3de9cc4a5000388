import { DiscoveryService } from '@nestjs/core';
import { WebhookEventContext } from './webhook-event-context';
import { isValidPattern, WebhookEventFor, WebhookEventPattern } from './webhook-event-pattern';

export { matchesPattern } from './webhook-event-pattern';
export type { WebhookEventPattern } from './webhook-event-pattern';

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

/** The shape a handler of pattern `P` must have: it takes the event `P` delivers, and a context. */
export type WebhookHandlerMethod<P> = (
  event: WebhookEventFor<P>,
  context: WebhookEventContext,
) => unknown;

/**
 * Marks a provider method as a handler for one or more event types. The method receives the
 * typed, validated DTO (for `realtime.call.incoming`, a `RealtimeCallIncomingEvent`) and a
 * `WebhookEventContext`. Discovered at start-up in every module of the application.
 *
 * The pattern is checked when you compile: a known type, a wildcard over known types, `*`, or
 * `unknownType('x.y')` for a type OpenAI adds later. So is the method's first parameter: it must
 * accept every event the pattern delivers (a `RealtimeCallIncomingEvent` parameter on a
 * `batch.completed` handler does not compile).
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
export function OnWebhookEvent<const P extends WebhookEventPattern>(
  patterns: P | readonly P[],
  options: WebhookHandlerOptions = {},
): <M extends WebhookHandlerMethod<P>>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => void {
  const list: string[] = Array.isArray(patterns)
    ? [...(patterns as readonly P[])]
    : [patterns as P];
  for (const pattern of list) {
    if (typeof pattern !== 'string' || !isValidPattern(pattern)) {
      throw new Error(
        `@OnWebhookEvent: "${String(pattern)}" is not an event type, a "prefix.*" wildcard or "*"`,
      );
    }
  }
  const decorate = OnWebhookEventDecorator({ ...options, patterns: list });
  return (target, propertyKey, descriptor) => {
    decorate(target, propertyKey, descriptor);
  };
}

OnWebhookEvent.KEY = OnWebhookEventDecorator.KEY;
OnWebhookEvent.discoverable = OnWebhookEventDecorator;
