import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { WebhookDispatcher } from './handlers/webhook-dispatcher.service';
import { EVENT_STORE, EventStore, StoredEvent } from './store/event-store';

/** An event Switchboard raises itself, e.g. `call.accepted`. */
export interface SwitchboardEvent<TData extends object = Record<string, unknown>> {
  id: string;
  object: 'event';
  created_at: number;
  type: string;
  data: TData;
}

/**
 * Raises Switchboard's own events (call lifecycle, ...) through the same store and the same
 * dispatch as OpenAI's, so that they get sequence numbers, handler status and replay too.
 */
@Injectable()
export class SwitchboardEventPublisher {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly dispatcher: WebhookDispatcher,
  ) {}

  async publish<TData extends object>(type: string, data: TData): Promise<StoredEvent> {
    const id = `sbevt_${randomUUID().replace(/-/g, '')}`;
    const now = Date.now();
    const event: SwitchboardEvent<TData> = {
      id,
      object: 'event',
      created_at: Math.floor(now / 1000),
      type,
      data,
    };
    const handlers = this.dispatcher.handlerKeysFor(type);
    const { event: stored } = await this.store.append(
      {
        webhookId: id,
        eventId: id,
        type,
        source: 'switchboard',
        payload: JSON.stringify(event),
        receivedAt: now,
      },
      handlers,
    );
    // Parsed back into its DTO (validation included) only for handlers to receive: a call's
    // own events mostly have none, and the parse was a tenth of a routed call's CPU.
    if (handlers.length === 0) return stored;
    const dto = this.dispatcher.rehydrate(stored);
    if (dto) void this.dispatcher.dispatch(stored, dto);
    return stored;
  }
}
