import { Injectable, Logger, Type } from '@nestjs/common';
import {
  OnWebhookEvent,
  WebhookEventPattern,
} from '../webhooks/handlers/on-webhook-event.decorator';
import { ObjectReferenceEventDto } from './dto/webhook-event.dto';

/**
 * A provider that writes one debug log line per event of a domain (`batch.completed: batch
 * batch_abc (event evt_123)`). Each domain module registers one, through the same public
 * decorator as an application's own handlers.
 */
export function eventLogHandler(domain: string, pattern: WebhookEventPattern, noun: string): Type {
  @Injectable()
  class EventLogHandler {
    private readonly logger = new Logger(`${domain}Events`);

    @OnWebhookEvent(pattern)
    log(event: ObjectReferenceEventDto): void {
      this.logger.debug(`${event.type}: ${noun} ${event.data.id} (event ${event.id})`);
    }
  }
  // The class name is the handler's name in the store: `BatchEventsHandler.log`.
  Object.defineProperty(EventLogHandler, 'name', { value: `${domain}EventsHandler` });
  return EventLogHandler;
}
