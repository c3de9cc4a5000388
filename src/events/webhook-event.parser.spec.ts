import fc from 'fast-check';
import { BatchCompletedEvent } from '../batch/dto/batch-events.dto';
import { UnknownWebhookEventDto } from './unknown-webhook-event.dto';
import { parseWebhookEvent } from './webhook-event.parser';

describe('parseWebhookEvent', () => {
  it('drops fields OpenAI may add later from the DTO, but accepts the event', () => {
    const parsed = parseWebhookEvent(
      JSON.stringify({
        id: 'evt_1',
        created_at: 1,
        type: 'batch.completed',
        data: { id: 'b', extra: 1 },
        extra: 2,
      }),
    );
    expect(parsed).toMatchObject({ ok: true, known: true });
    const event = (parsed as { event: BatchCompletedEvent }).event;
    expect(event).toBeInstanceOf(BatchCompletedEvent);
    expect(event).not.toHaveProperty('extra');
    expect(event.data).not.toHaveProperty('extra');
  });

  it('takes an unknown type as an UnknownWebhookEventDto', () => {
    const parsed = parseWebhookEvent('{"id":"evt_1","type":"audio.done","data":{"x":[1]}}');
    expect(parsed).toMatchObject({
      ok: true,
      known: false,
      event: { type: 'audio.done', data: { x: [1] } },
    });
    expect((parsed as { event: object }).event).toBeInstanceOf(UnknownWebhookEventDto);
  });

  it('never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.json(),
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify({ type: 'batch.failed', data: v })),
        ),
        (text) => {
          const parsed = parseWebhookEvent(text);
          expect(typeof parsed.ok).toBe('boolean');
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('refuses deep nesting with a 400-style error instead of a crash', () => {
    const nested = `${'['.repeat(100000)}${']'.repeat(100000)}`;
    for (const type of ['x.y', 'batch.completed']) {
      const parsed = parseWebhookEvent(
        `{"id":"evt_1","created_at":1,"type":"${type}","data":{"id":"b","deep":${nested}}}`,
      );
      expect(parsed.ok).toBe(false);
    }
  });
});
