import { Injectable } from '@nestjs/common';
import request from 'supertest';
import { OnWebhookEvent } from '../src/webhooks/handlers/on-webhook-event.decorator';
import { sampleEvent } from './support/sample-events';
import { signDelivery } from './support/signing';
import { createTestApp, eventually, TestApp } from './support/test-app';

const TOKEN = 'operator-token-for-tests';

@Injectable()
class CountingHandler {
  readonly seen: string[] = [];

  @OnWebhookEvent('*')
  count(event: { id: string }): void {
    this.seen.push(event.id);
  }
}

describe('admin API: /events', () => {
  let t: TestApp;
  const admin = (method: 'get' | 'post', path: string) =>
    request(t.app.getHttpServer())[method](path).set('Authorization', `Bearer ${TOKEN}`);

  beforeEach(async () => {
    t = await createTestApp({ providers: [CountingHandler], options: { adminToken: TOKEN } });
  });
  afterEach(() => t.close());

  async function deliverMany(types: string[]) {
    const bodies = types.map((type) => sampleEvent(type));
    for (const body of bodies) await t.deliver(signDelivery(JSON.stringify(body))).expect(200);
    return bodies;
  }

  describe('authentication', () => {
    it.each([
      ['no Authorization header', undefined, 'missing "Authorization: Bearer <token>" header'],
      ['a wrong token', `Bearer not-${TOKEN}`, 'invalid admin token'],
      ['another scheme', `Basic ${TOKEN}`, 'missing "Authorization: Bearer <token>" header'],
    ])(
      'answers 401 with %s, naming the problem and echoing neither token',
      async (_case, header, message) => {
        const call = request(t.app.getHttpServer()).get('/events');
        if (header) call.set('Authorization', header);
        const response = await call.expect(401);
        expect(response.body.message).toBe(message);
        // Neither what the caller sent nor the configured token comes back in the answer.
        const answer = JSON.stringify(response.body) + JSON.stringify(response.headers);
        expect(answer).not.toContain(TOKEN);
        if (header) expect(answer).not.toContain(header.split(' ')[1]);
      },
    );

    it('is off (404) when no admin token is configured', async () => {
      const off = await createTestApp();
      try {
        const response = await request(off.app.getHttpServer())
          .get('/events')
          .set('Authorization', `Bearer ${TOKEN}`)
          .expect(404);
        expect(response.body.message).toContain('set ADMIN_TOKEN');
      } finally {
        await off.close();
      }
    });
  });

  it('lists events in order, filters by type and wildcard, and pages by cursor', async () => {
    await deliverMany([
      'batch.completed',
      'response.completed',
      'batch.failed',
      'batch.expired',
      'eval.run.failed',
    ]);

    const all = await admin('get', '/events').expect(200);
    expect(all.body.events.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3, 4, 5]);

    const exact = await admin('get', '/events?type=batch.failed').expect(200);
    expect(exact.body.events.map((e: { type: string }) => e.type)).toEqual(['batch.failed']);

    const page1 = await admin('get', '/events?type=batch.*&limit=2').expect(200);
    expect(page1.body.events.map((e: { type: string }) => e.type)).toEqual([
      'batch.completed',
      'batch.failed',
    ]);
    expect(page1.body.next_cursor).toBe('3');
    const page2 = await admin(
      'get',
      `/events?type=batch.*&limit=2&cursor=${page1.body.next_cursor}`,
    ).expect(200);
    expect(page2.body.events.map((e: { type: string }) => e.type)).toEqual(['batch.expired']);
    expect(page2.body.next_cursor).toBeNull();
  });

  it.each([
    ['a negative cursor', '/events?cursor=-1', 'cursor'],
    ['a limit over 500', '/events?limit=501', 'limit'],
    ['a malformed type', '/events?type=batch%20completed', 'type'],
    ['an unknown parameter', '/events?colour=red', 'colour'],
  ])('refuses %s with 400', async (_case, path, field) => {
    const response = await admin('get', path).expect(400);
    expect(JSON.stringify(response.body.message)).toContain(field);
  });

  it('shows one event by event id or webhook id, with payload and handler status', async () => {
    const [body] = await deliverMany(['fine_tuning.job.succeeded']);
    await eventually(async () => {
      const response = await admin('get', `/events/${body.id}`).expect(200);
      expect(response.body).toMatchObject({
        id: body.id,
        type: 'fine_tuning.job.succeeded',
        source: 'openai',
        payload: body,
        handlers: [
          { handler: 'CountingHandler.count', status: 'done', attempts: 1, lastError: null },
        ],
      });
    });
    const byWebhookId = await admin(
      'get',
      `/events/${(await t.store.find(body.id))!.webhookId}`,
    ).expect(200);
    expect(byWebhookId.body.id).toBe(body.id);
    await admin('get', '/events/evt_missing').expect(404);
  });

  it('refuses to replay an event whose handlers are still running or waiting for a retry', async () => {
    await t.close();
    @Injectable()
    class FailingOnce {
      calls = 0;
      @OnWebhookEvent('batch.failed')
      handle(): void {
        this.calls += 1;
        throw new Error('not yet');
      }
    }
    t = await createTestApp({
      providers: [FailingOnce],
      options: { adminToken: TOKEN, handlerRetryBaseMs: 60_000 },
    });
    const [body] = await deliverMany(['batch.failed']);
    await eventually(async () =>
      expect((await t.store.find(body.id))!.runs[0].status).toBe('retrying'),
    );
    const refused = await admin('post', `/events/${body.id}/replay`).expect(409);
    expect(refused.body.message).toContain('FailingOnce.handle: retrying');
    expect(t.app.get(FailingOnce).calls).toBe(1);
  });

  it('replays an event to its handlers', async () => {
    const [body] = await deliverMany(['response.incomplete']);
    const counter = t.app.get(CountingHandler);
    await eventually(() => expect(counter.seen).toEqual([body.id]));

    const response = await admin('post', `/events/${body.id}/replay`).expect(202);
    expect(response.body).toEqual({ replayed: true, seq: 1, handlers: ['CountingHandler.count'] });
    await eventually(() => expect(counter.seen).toEqual([body.id, body.id]));
    await admin('post', '/events/evt_missing/replay').expect(404);
  });
});
