import { INestApplication, Module, NestApplicationOptions } from '@nestjs/common';

import { NestFactory } from '@nestjs/core';
import { json } from 'express';
import type { NextFunction, Request, Response } from 'express';
import request from 'supertest';
import { WebhooksModule } from '../src/webhooks/webhooks.module';
import { SqliteEventStore } from '../src/webhooks/store/sqlite-event-store';
import { CollectingLogger } from './support/collecting-logger';
import { sampleEvent } from './support/sample-events';
import { signDelivery, TEST_SECRET } from './support/signing';

/** A user's app module, as the README shows it. */
function hostModule(store: SqliteEventStore) {
  @Module({ imports: [WebhooksModule.forRoot({ secrets: TEST_SECRET, store })] })
  class HostModule {}
  return HostModule;
}

const signedEvent = () => signDelivery(JSON.stringify(sampleEvent('batch.completed')));

describe('a host app whose body parser would hide the raw bytes', () => {
  let app: INestApplication | undefined;
  let store: SqliteEventStore;
  beforeEach(() => {
    store = new SqliteEventStore({ filename: ':memory:' });
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await store.close();
  });

  async function create(options: NestApplicationOptions, module = hostModule(store)) {
    app = await NestFactory.create(module, { logger: false, ...options });
    return app;
  }

  it('fails at start-up under a plain NestFactory.create(AppModule), saying what to change', async () => {
    const created = await create({});
    const started = created.init();
    await expect(started).rejects.toThrow(/rawBody: true/);
    await expect(started).rejects.toThrow(/bodyParser: false/);
    await expect(started).rejects.not.toThrow(/signature_mismatch|secret/);
  });

  it("fails at start-up when the app's own express.json() replaces Nest's raw-keeping parser", async () => {
    const created = await create({ rawBody: true });
    created.use(json());
    await expect(created.init()).rejects.toThrow(/app\.useBodyParser\('json'\)/);
  });

  it.each([
    ['{ rawBody: true }', { rawBody: true }],
    ['{ bodyParser: false }', { bodyParser: false }],
  ])('accepts a signed event in an app created with %s', async (_name, options) => {
    const created = await create(options);
    await created.init();
    const delivery = signedEvent();
    const answer = await request(created.getHttpServer())
      .post('/webhooks/openai')
      .set(delivery.headers)
      .send(delivery.body)
      .expect(200);
    expect(answer.body).toMatchObject({ received: true, type: 'batch.completed' });
  });

  it('keeps useBodyParser working beside rawBody, as the message advises', async () => {
    const created = await create({ rawBody: true, bodyParser: false });
    (created as unknown as { useBodyParser(type: string): void }).useBodyParser('json');
    await created.init();
    const delivery = signedEvent();
    await request(created.getHttpServer())
      .post('/webhooks/openai')
      .set(delivery.headers)
      .send(delivery.body)
      .expect(200);
  });

  it('answers 500 naming the fix (never a signature error) when a parser it could not see at start-up ate the body, and logs it once', async () => {
    const logger = new CollectingLogger();
    const created = await create({ bodyParser: false, logger });
    // A parser wrapped in the app's own middleware: nothing at start-up can tell what it does.
    const parse = json();
    created.use((req: Request, res: Response, next: NextFunction) => parse(req, res, next));
    await created.init();
    for (let i = 0; i < 2; i++) {
      const delivery = signedEvent();
      const answer = await request(created.getHttpServer())
        .post('/webhooks/openai')
        .set(delivery.headers)
        .send(delivery.body)
        .expect(500);
      expect(answer.body.reason).toBe('raw_body_unavailable');
      expect(answer.body.message).toContain('rawBody: true');
    }
    expect(await store.list({ limit: 10 })).toEqual([]);
    expect(logger.lines.filter((line) => line.message.includes('rawBody: true'))).toEqual([
      expect.objectContaining({ level: 'error' }),
    ]);
  });
});
