import { Injectable, Logger, Type } from '@nestjs/common';
import { OnWebhookEvent } from '../webhooks/handlers/on-webhook-event.decorator';
import { KnownWildcardPattern, WebhookEventFor } from '../webhooks/handlers/webhook-event-pattern';

/**
 * A provider that writes one debug log line per event of a domain (`batch.completed: batch
 * batch_abc (event evt_123)`). Each domain module registers one, through the same public
 * decorator as an application's own handlers.
 */
export function eventLogHandler<P extends KnownWildcardPattern>(
  domain: string,
  pattern: P,
  noun: string,
): Type {
  @Injectable()
  class EventLogHandler {
    private readonly logger = new Logger(`${domain}Events`);

    @OnWebhookEvent(pattern)
    log(event: WebhookEventFor<P>): void {
      // A type OpenAI added after this version arrives without a DTO, and maybe without data.
      const subject = (event.data as { id?: unknown } | undefined)?.id ?? '(no id)';
      this.logger.debug(`${event.type}: ${noun} ${String(subject)} (event ${event.id})`);
    }
  }
  // The class name is the handler's name in the store: `BatchEventsHandler.log`.
  Object.defineProperty(EventLogHandler, 'name', { value: `${domain}EventsHandler` });
  return EventLogHandler;
}
