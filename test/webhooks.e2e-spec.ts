import { Injectable } from '@nestjs/common';
import { BatchCompletedEvent } from '../src/batch/dto/batch-events.dto';
import { UnknownWebhookEventDto } from '../src/events/unknown-webhook-event.dto';
import { WEBHOOK_EVENT_DTOS } from '../src/events/webhook-event-types';
import { RealtimeCallIncomingEvent } from '../src/realtime-call/dto/realtime-call-incoming.dto';
import { OnWebhookEvent } from '../src/webhooks/handlers/on-webhook-event.decorator';
import { WebhookEventContext } from '../src/webhooks/handlers/webhook-event-context';
import { ALL_TYPES, sampleEvent } from './support/sample-events';
import { signDelivery } from './support/signing';
import { createTestApp, eventually, TestApp } from './support/test-app';

@Injectable()
class EverythingRecorder {
  readonly received: { event: object; context: WebhookEventContext }[] = [];

  @OnWebhookEvent('*')
  record(event: object, context: WebhookEventContext): void {
    this.received.push({ event, context });
  }
}

describe('POST /webhooks/openai', () => {
  let t: TestApp;
  let recorder: EverythingRecorder;

  beforeEach(async () => {
    t = await createTestApp({ providers: [EverythingRecorder] });
    recorder = t.app.get(EverythingRecorder);
  });
  afterEach(() => t.close());

  const storedCount = async () => (await t.store.list({ limit: 1000 })).length;

  describe('accepts every one of the fifteen types', () => {
    it.each(ALL_TYPES)('%s: 200, stored, and handed over as its typed DTO', async (type) => {
      const body = sampleEvent(type);
      const response = await t.deliver(signDelivery(JSON.stringify(body))).expect(200);
      expect(response.body).toMatchObject({ received: true, duplicate: false, type });

      await eventually(() => expect(recorder.received).toHaveLength(1));
      const { event, context } = recorder.received[0];
      expect(event).toBeInstanceOf(WEBHOOK_EVENT_DTOS[type]);
      expect(event).toMatchObject({ id: body.id, type, data: body.data });
      expect(context).toMatchObject({ seq: response.body.seq, source: 'openai', attempt: 1 });
    });
  });

  it('hands a realtime call over with its SIP headers as typed objects', async () => {
    const body = sampleEvent('realtime.call.incoming');
    await t.deliver(signDelivery(JSON.stringify(body))).expect(200);
    await eventually(() => expect(recorder.received).toHaveLength(1));
    const call = recorder.received[0].event as RealtimeCallIncomingEvent;
    expect(call).toBeInstanceOf(RealtimeCallIncomingEvent);
    expect(call.data.sip_headers[0]).toEqual(body.data.sip_headers?.[0]);
  });

  describe('refuses with 401 and stores nothing', () => {
    const body = JSON.stringify(sampleEvent('batch.completed'));
    // Read when each delivery is made, not when the file loads: a slow run must not age them.
    const now = () => Math.floor(Date.now() / 1000);

    it.each([
      [
        'a tampered body',
        () => ({ ...signDelivery(body), body: body.replace('batch_', 'batcX_') }),
      ],
      ['a stale delivery (6 minutes old)', () => signDelivery(body, { timestamp: now() - 360 })],
      [
        'a delivery from the future (6 minutes ahead)',
        () => signDelivery(body, { timestamp: now() + 360 }),
      ],
      [
        'a wrongly signed delivery',
        () =>
          signDelivery(body, {
            secret: `whsec_${Buffer.from('another-secret-entirely!!').toString('base64')}`,
          }),
      ],
      [
        'a re-serialised body',
        () => {
          const signed = signDelivery(JSON.stringify(JSON.parse(body), null, 2));
          return { ...signed, body: JSON.stringify(JSON.parse(signed.body)) };
        },
      ],
    ])('%s', async (_name, make) => {
      const response = await t.deliver(make()).expect(401);
      expect(response.body.message).toEqual(expect.any(String));
      expect(await storedCount()).toBe(0);
    });

    it('an unsigned delivery', async () => {
      const { headers } = signDelivery(body);
      const response = await t
        .deliver({ body, headers: { 'content-type': headers['content-type'] } })
        .expect(401);
      expect(response.body).toMatchObject({ reason: 'missing_headers' });
      expect(await storedCount()).toBe(0);
    });
  });

  describe('refuses a signed but invalid body with 400 naming the fields', () => {
    it.each([
      ['a missing data.id', sampleEvent('batch.completed', { data: {} }), ['data.id']],
      [
        'a numeric created_at as text',
        sampleEvent('eval.run.failed', { created_at: 'yesterday' }),
        ['created_at'],
      ],
      [
        // Odd SIP headers do not refuse a ringing call (test/call-intake.e2e-spec.ts); this does.
        'a ringing call without a call_id',
        sampleEvent('realtime.call.incoming', { data: { sip_headers: [{ value: 'x' }] } }),
        ['data.call_id'],
      ],
      ['a wrong object', sampleEvent('response.failed', { object: 'batch' }), ['object']],
    ])('%s', async (_name, body, paths) => {
      const response = await t.deliver(signDelivery(JSON.stringify(body))).expect(400);
      expect(response.body.errors.map((e: { path: string }) => e.path)).toEqual(paths);
      expect(response.body.message).toContain(paths[0]);
      expect(await storedCount()).toBe(0);
    });

    it.each([
      ['not JSON', '{"id": "evt_1", '],
      ['a JSON array', '[1, 2, 3]'],
      ['no type', '{"id": "evt_1", "data": {}}'],
      ['an empty body', ''],
    ])('%s', async (_name, body) => {
      const response = await t.deliver(signDelivery(body)).expect(400);
      expect(response.body.message).toEqual(expect.any(String));
    });
  });

  it('acknowledges, stores and hands an unknown type to wildcard handlers', async () => {
    const body = sampleEvent('video.generation.completed', { data: { id: 'video_1', seconds: 8 } });
    const response = await t.deliver(signDelivery(JSON.stringify(body))).expect(200);
    expect(response.body).toMatchObject({ received: true, type: 'video.generation.completed' });
    await eventually(() => expect(recorder.received).toHaveLength(1));
    expect(recorder.received[0].event).toBeInstanceOf(UnknownWebhookEventDto);
    expect(recorder.received[0].event).toMatchObject({
      type: 'video.generation.completed',
      data: body.data,
    });
  });

  it('answers a POST with no body at all (no Content-Length, no chunks) with 401, not 500', async () => {
    await new Promise<void>((resolve) =>
      t.app.getHttpServer().listen(0, '127.0.0.1', () => resolve()),
    );
    const { port } = t.app.getHttpServer().address() as { port: number };
    const { connect } = await import('node:net');
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      const socket = connect(port, '127.0.0.1', () =>
        socket.write(
          'POST /webhooks/openai HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
        ),
      );
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 401/);
    expect(answer).toContain('missing_headers');
  });

  it('handles 50 concurrent deliveries of one webhook-id exactly once', async () => {
    const delivery = signDelivery(JSON.stringify(sampleEvent('batch.completed')));
    const responses = await Promise.all(Array.from({ length: 50 }, () => t.deliver(delivery)));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(responses.filter((r) => r.body.duplicate === false)).toHaveLength(1);
    expect(new Set(responses.map((r) => r.body.seq)).size).toBe(1);
    expect(await storedCount()).toBe(1);
    // Handlers start before the 2xx goes out, so a second run of any delivery has begun by now;
    // once the one run is recorded done, its count of attempts says whether another ran.
    await eventually(async () =>
      expect((await t.store.find(String(responses[0].body.seq)))!.runs).toEqual([
        expect.objectContaining({
          handler: 'EverythingRecorder.record',
          status: 'done',
          attempts: 1,
        }),
      ]),
    );
    expect(recorder.received).toHaveLength(1);
  });

  it('answers 413 to a body over the limit, and stores nothing', async () => {
    const huge = JSON.stringify(
      sampleEvent('batch.completed', { padding: 'x'.repeat(1024 * 1024) }),
    );
    const response = await t.deliver(signDelivery(huge)).expect(413);
    expect(response.body.message).toContain('larger than the limit');
    expect(response.headers['x-request-id']).toEqual(expect.any(String));
    expect(await storedCount()).toBe(0);
  });

  describe('drops __proto__ and constructor.prototype keys while parsing', () => {
    // The class-transformer step alone already skips `__proto__`, but it throws on a
    // `constructor.prototype` inside a free-form object (an unknown type's data): only a parser
    // that drops these keys gets such an event accepted instead of refused (and retried for days).
    const dangerous = `{"__proto__": {"polluted": true}, "id": "evt_proto", "created_at": 1,
      "type": "video.generation.completed", "data": {"id": "video_1",
      "constructor": {"prototype": {"polluted": true}}, "__proto__": {"admin": true},
      "nested": {"__proto__": {"admin": true}, "constructor": {"prototype": {"x": 1}}, "kept": 2}}}`;

    it('accepts the event and hands it over without those keys, with plain prototypes', async () => {
      const response = await t.deliver(signDelivery(dangerous)).expect(200);
      expect(response.body).toMatchObject({ received: true, duplicate: false });
      await eventually(() => expect(recorder.received).toHaveLength(1));
      const event = recorder.received[0].event as UnknownWebhookEventDto;
      const data = event.data as Record<string, Record<string, unknown>>;
      expect(Object.getOwnPropertyNames(event).sort()).toEqual(
        ['created_at', 'data', 'id', 'object', 'type'].sort(),
      );
      expect(Object.getOwnPropertyNames(data)).toEqual(['id', 'nested']);
      expect(Object.getOwnPropertyNames(data.nested)).toEqual(['kept']);
      expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
      expect(Object.getPrototypeOf(data.nested)).toBe(Object.prototype);
      expect(data.constructor).toBe(Object);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(({} as Record<string, unknown>).admin).toBeUndefined();
    });

    it('lets a known type carrying them validate, and its DTO holds none of them', async () => {
      const body = `{"__proto__": {"polluted": true}, "id": "evt_proto", "created_at": 1,
        "type": "batch.completed", "data": {"id": "batch_1",
        "constructor": {"prototype": {"polluted": true}}, "__proto__": {"admin": true}}}`;
      await t.deliver(signDelivery(body)).expect(200);
      await eventually(() => expect(recorder.received).toHaveLength(1));
      const event = recorder.received[0].event as BatchCompletedEvent;
      expect(event).toBeInstanceOf(BatchCompletedEvent);
      expect(Object.getOwnPropertyNames(event.data)).toEqual(['id']);
      expect(Object.getPrototypeOf(event.data)).not.toHaveProperty('admin');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  });
});

describe('embedded in an app created with { rawBody: true }', () => {
  it('verifies against the bytes Nest kept, even when Nest parsed the JSON first', async () => {
    const { Test } = await import('@nestjs/testing');
    const { WebhooksModule } = await import('../src/webhooks/webhooks.module');
    const { SqliteEventStore } = await import('../src/webhooks/store/sqlite-event-store');
    const { TEST_SECRET } = await import('./support/signing');
    const request = (await import('supertest')).default;
    const store = new SqliteEventStore({ filename: ':memory:' });
    const moduleRef = await Test.createTestingModule({
      imports: [WebhooksModule.forRoot({ secrets: TEST_SECRET, store })],
    }).compile();
    const app = moduleRef.createNestApplication({ rawBody: true, logger: false });
    await app.init();
    try {
      const delivery = signDelivery(JSON.stringify(sampleEvent('batch.completed'), null, 1));
      await request(app.getHttpServer())
        .post('/webhooks/openai')
        .set(delivery.headers)
        .send(delivery.body)
        .expect(200);
    } finally {
      await app.close();
      await store.close();
    }
  });
});
