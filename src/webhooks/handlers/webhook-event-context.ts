import { EventSource } from '../store/event-store';

/** What a handler learns about the delivery besides the event itself. */
export interface WebhookEventContext {
  /** The store's sequence number of this event. */
  seq: number;
  /** The `webhook-id` it arrived with (deduplication key). */
  webhookId: string;
  source: EventSource;
  /** 1 on the first try, then 2, 3... on retries and after a restart. */
  attempt: number;
  /** When the event was received (ms since the epoch). */
  receivedAt: number;
}
