import { DiscoveryService } from '@nestjs/core';
import { WebhookEventContext } from './webhook-event-context';
import { isValidPattern, WebhookEventFor, WebhookEventPattern } from './webhook-event-pattern';

export { matchesPattern } from './webhook-event-pattern';
export type { WebhookEventPattern } from './webhook-event-pattern';

export interface WebhookHandlerOptions {
  /**
   * Lower runs first. Handlers of the same priority run concurrently; the next priority
   * starts when they have all settled. Any finite number; default 0. (The calls module's
   * routing of a ringing call runs before all of them, whatever their priority.)
   */
  priority?: number;
  /** Attempts before the run is marked failed; overrides the module's `handlerMaxAttempts`. */
  maxAttempts?: number;
}

export interface WebhookHandlerMetadata extends WebhookHandlerOptions {
  patterns: string[];
  /** Runs before every other handler of the event (`OnWebhookEventFirst`). */
  first?: boolean;
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
  const decorate = OnWebhookEventDecorator(metadataOf('@OnWebhookEvent', patterns, options, false));
  return (target, propertyKey, descriptor) => {
    decorate(target, propertyKey, descriptor);
  };
}

/**
 * Internal to Switchboard (not exported from the package): the handler runs before every
 * `@OnWebhookEvent` handler of the event, whatever their priority, and they start only once it
 * has settled. The calls module routes a ringing call this way: no user handler sees the event
 * before the decision has been carried out.
 */
export function OnWebhookEventFirst<const P extends WebhookEventPattern>(
  patterns: P | readonly P[],
  options: Omit<WebhookHandlerOptions, 'priority'> = {},
): <M extends WebhookHandlerMethod<P>>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => void {
  const decorate = OnWebhookEventDecorator(
    metadataOf('@OnWebhookEventFirst', patterns, options, true),
  );
  return (target, propertyKey, descriptor) => {
    decorate(target, propertyKey, descriptor);
  };
}

/** Only the known options are kept, so that no user's options can claim the first stage. */
function metadataOf<P extends WebhookEventPattern>(
  decorator: string,
  patterns: P | readonly P[],
  options: WebhookHandlerOptions,
  first: boolean,
): WebhookHandlerMetadata {
  const list: string[] = Array.isArray(patterns)
    ? [...(patterns as readonly P[])]
    : [patterns as P];
  for (const pattern of list) {
    if (typeof pattern !== 'string' || !isValidPattern(pattern)) {
      throw new Error(
        `${decorator}: "${String(pattern)}" is not an event type, a "prefix.*" wildcard or "*"`,
      );
    }
  }
  if (options.priority !== undefined && !Number.isFinite(options.priority)) {
    throw new Error(`${decorator}: priority must be a finite number (got ${options.priority})`);
  }
  return { patterns: list, priority: options.priority, maxAttempts: options.maxAttempts, first };
}

OnWebhookEvent.KEY = OnWebhookEventDecorator.KEY;
OnWebhookEvent.discoverable = OnWebhookEventDecorator;
