import { Inject, Injectable, Optional } from '@nestjs/common';
import { SwitchboardMetrics } from '../metrics/switchboard-metrics';
import { parseWebhookEvent, FieldError } from '../events/webhook-event.parser';
import { WebhookDispatcher } from './handlers/webhook-dispatcher.service';
import {
  WebhookSignatureHeaders,
  WebhookSignatureVerifier,
} from './signature/webhook-signature.verifier';
import { EVENT_STORE, EventStore } from './store/event-store';

export type IngestOutcome =
  | { status: 'accepted'; seq: number; type: string; eventId: string }
  | { status: 'duplicate'; seq: number; type: string; eventId: string }
  | { status: 'unauthorized'; reason: string; message: string }
  | { status: 'invalid'; message: string; errors: FieldError[] };

/**
 * One webhook delivery, start to acknowledgement: verify the raw bytes, parse and validate
 * into the DTO of its type, store (deduplicated by `webhook-id`), then start the handlers.
 * Nothing reaches the store before the signature is proven.
 */
@Injectable()
export class WebhookIngestService {
  constructor(
    private readonly verifier: WebhookSignatureVerifier,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly dispatcher: WebhookDispatcher,
    @Optional() private readonly metrics?: SwitchboardMetrics,
  ) {}

  async ingest(headers: WebhookSignatureHeaders, body: Buffer): Promise<IngestOutcome> {
    const outcome = await this.process(headers, body);
    this.count(outcome);
    return outcome;
  }

  private count(outcome: IngestOutcome): void {
    if (!this.metrics) return;
    switch (outcome.status) {
      case 'unauthorized':
        this.metrics.verificationFailures.inc({ reason: outcome.reason });
        this.metrics.webhooksReceived.inc({ type: 'unverified', outcome: 'refused' });
        return;
      case 'invalid':
        this.metrics.webhooksReceived.inc({ type: 'unparsed', outcome: 'invalid' });
        return;
      default:
        this.metrics.webhooksReceived.inc({ type: outcome.type, outcome: outcome.status });
    }
  }

  private async process(headers: WebhookSignatureHeaders, body: Buffer): Promise<IngestOutcome> {
    const verified = this.verifier.verify(headers, body);
    if (!verified.ok)
      return { status: 'unauthorized', reason: verified.reason, message: verified.message };

    const receivedAt = Date.now();
    const parsed = parseWebhookEvent(body, { webhookId: verified.webhookId, receivedAt });
    if (!parsed.ok) return { status: 'invalid', message: parsed.message, errors: parsed.errors };

    const { event } = parsed;
    const appended = await this.store.append(
      {
        webhookId: verified.webhookId,
        eventId: event.id,
        type: event.type,
        source: 'openai',
        payload: body.toString(),
        receivedAt,
      },
      this.dispatcher.handlerKeysFor(event.type),
    );
    if (!appended.inserted) {
      return { status: 'duplicate', seq: appended.event.seq, type: event.type, eventId: event.id };
    }

    // Not awaited: the 2xx goes out now; the handlers' progress lives in the store.
    void this.dispatcher.dispatch(appended.event, event);
    return {
      status: 'accepted',
      seq: appended.event.seq,
      type: event.type,
      eventId: event.id,
    };
  }
}
