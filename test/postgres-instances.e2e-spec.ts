import { Inject, Injectable, Module } from '@nestjs/common';
import { EventStreamModule } from '../src/stream/event-stream.module';
import { OnWebhookEvent } from '../src/webhooks/handlers/on-webhook-event.decorator';
import { WebhookEventContext } from '../src/webhooks/handlers/webhook-event-context';
import { EVENT_STORE, EventStore } from '../src/webhooks/store/event-store';
import { PostgresEventStore } from '../src/webhooks/store/postgres/postgres-event-store';
import { createTestSchema, describeWithPostgres, TestSchema } from './support/postgres';
import { sampleEvent } from './support/sample-events';
import { signDelivery } from './support/signing';
import { TestStreamClient } from './support/stream-client';
import { createTestApp, eventually, TestApp } from './support/test-app';

const TOKEN = 'instances-admin-token';
const INSTANCE = Symbol('INSTANCE');

interface Run {
  instance: string;
  eventId: string;
  attempt: number;
}

/** Every handler run of the test, whichever instance ran it. */
const runs: Run[] = [];
/** Calls to `batch.failed` handlers wait here while the test holds them. */
let holdFailed: Promise<void> = Promise.resolve();

/** The user's handlers, the same code in both instances (as two replicas of one app). */
@Injectable()
class RecordingHandlers {
  constructor(@Inject(INSTANCE) private readonly instance: string) {}

  @OnWebhookEvent(['batch.completed', 'batch.failed'])
  async record(event: { id: string; type: string }, context: WebhookEventContext) {
    runs.push({ instance: this.instance, eventId: event.id, attempt: context.attempt });
    if (event.type === 'batch.failed') await holdFailed;
  }

  /** Fails on instance a, to be retried (much later); works on b. */
  @OnWebhookEvent('batch.cancelled')
  cancelled(event: { id: string }, context: WebhookEventContext) {
    runs.push({ instance: this.instance, eventId: event.id, attempt: context.attempt });
    if (this.instance === 'a') throw new Error('instance a cannot do this now');
  }
}

/**
 * Two instances of one app on one PostgreSQL schema, each with its own HTTP server and event
 * stream, as two replicas behind a load balancer.
 */
describeWithPostgres('two instances on one PostgreSQL database', () => {
  let schema: TestSchema;
  let apps: TestApp[] = [];
  const clients: TestStreamClient[] = [];

  async function startInstance(
    name: string,
    runLeaseMs = 30_000,
    handlerRetryBaseMs = 10,
  ): Promise<TestApp> {
    @Module({
      imports: [EventStreamModule.forRoot({ adminToken: TOKEN })],
      providers: [{ provide: INSTANCE, useValue: name }, RecordingHandlers],
    })
    class InstanceModule {}
    const app = await createTestApp({
      imports: [InstanceModule],
      listen: true,
      // The module opens the PostgreSQL store itself, as the service does with DATABASE_URL.
      options: {
        store: undefined,
        databaseUrl: schema.url,
        runLeaseMs,
        handlerRetryBaseMs,
        adminToken: TOKEN,
      },
    });
    apps.push(app);
    return app;
  }

  async function streamFrom(app: TestApp): Promise<TestStreamClient> {
    const client = await TestStreamClient.connect(
      `ws://127.0.0.1:${app.port}/events?types=*`,
      TOKEN,
    );
    clients.push(client);
    await eventually(() => expect(client.messages.map((m) => m.type)).toContain('caught_up'));
    return client;
  }

  beforeEach(async () => {
    runs.length = 0;
    schema = await createTestSchema('e2e');
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    for (const app of apps) await app.close();
    apps = [];
    await schema.drop();
  });

  it('takes deliveries on both, stores each webhook once, runs each handler once, and streams everything in order on both', async () => {
    const [a, b] = [await startInstance('a'), await startInstance('b')];
    const [onA, onB] = [await streamFrom(a), await streamFrom(b)];

    const spread = Array.from({ length: 30 }, () =>
      signDelivery(JSON.stringify(sampleEvent('batch.completed'))),
    );
    const duplicated = Array.from({ length: 10 }, () =>
      signDelivery(JSON.stringify(sampleEvent('batch.completed'))),
    );
    const answers = await Promise.all([
      ...spread.map((delivery, i) => (i % 2 ? a : b).deliver(delivery)),
      // OpenAI retrying a delivery that one instance was slow to answer: the copy reaches the other.
      ...duplicated.flatMap((delivery) => [a.deliver(delivery), b.deliver(delivery)]),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
    const copies = answers.slice(spread.length);
    for (let i = 0; i < duplicated.length; i++) {
      const pair = [copies[2 * i].body, copies[2 * i + 1].body];
      expect(pair.map((body) => body.duplicate).sort()).toEqual([false, true]);
      expect(pair[0].seq).toBe(pair[1].seq);
    }

    const eventIds = [...spread, ...duplicated].map(
      (delivery) => (JSON.parse(delivery.body) as { id: string }).id,
    );
    // One run per event, across both instances; both instances ran some.
    await eventually(() => expect(runs).toHaveLength(eventIds.length));
    expect(runs.map((run) => run.eventId).sort()).toEqual([...eventIds].sort());
    expect(new Set(runs.map((run) => run.instance))).toEqual(new Set(['a', 'b']));

    // Each stream client saw all 40 events, once each, in sequence order, with no gap.
    const all = Array.from({ length: eventIds.length }, (_, i) => i + 1);
    await eventually(() => {
      expect(onA.seqs()).toEqual(all);
      expect(onB.seqs()).toEqual(all);
    });
    expect(onA.events().map((m) => m.event!.id)).toEqual(onB.events().map((m) => m.event!.id));
  });

  it('catches a stream client up from `since` on the other instance with no gap or duplicate at the seam', async () => {
    const [a, b] = [await startInstance('a'), await startInstance('b')];
    for (let i = 0; i < 5; i++)
      await a.deliver(signDelivery(JSON.stringify(sampleEvent('batch.completed'))));
    const client = await TestStreamClient.connect(
      `ws://127.0.0.1:${b.port}/events?types=*&since=2`,
      TOKEN,
    );
    clients.push(client);
    // Events keep arriving at A while B's client catches up.
    await Promise.all(
      Array.from({ length: 10 }, () =>
        a.deliver(signDelivery(JSON.stringify(sampleEvent('batch.completed')))),
      ),
    );
    await eventually(() =>
      expect(client.seqs()).toEqual(Array.from({ length: 13 }, (_, i) => i + 3)),
    );
  });

  it('hands back the runs an instance holds when it shuts down: the other takes them at once, not after the lease', async () => {
    // A 60 s lease and a retry a minute away: only the hand-back can move the run now.
    const [a] = [await startInstance('a', 60_000, 60_000), await startInstance('b', 60_000)];
    const event = sampleEvent('batch.cancelled');
    expect((await a.deliver(signDelivery(JSON.stringify(event)))).status).toBe(200);
    const holder = async () =>
      (
        await schema.query<{ status: string; lease_owner: string | null }>(
          `SELECT status, lease_owner FROM ${schema.name}.handler_runs
           WHERE handler = 'RecordingHandlers.cancelled'`,
        )
      )[0];
    const [ownerA, ownerB] = apps.map(
      (app) => app.app.get<PostgresEventStore>(EVENT_STORE).instanceId,
    );
    await eventually(async () =>
      expect(await holder()).toEqual({ status: 'retrying', lease_owner: ownerA }),
    );
    await a.close(); // a drain, as on SIGTERM
    apps = apps.slice(1);
    // B claims it at once (its own next look would be 20 s away, the lease's end 60 s),
    // keeping the attempt count and the time of the next attempt.
    await eventually(async () =>
      expect(await holder()).toEqual({ status: 'retrying', lease_owner: ownerB }),
    );
    expect(runs).toEqual([{ instance: 'a', eventId: event.id, attempt: 1 }]);
  });

  it('hands the runs of an instance that lost its database to the other once the lease has passed', async () => {
    let release!: () => void;
    holdFailed = new Promise((resolve) => (release = resolve));
    try {
      const [a, b] = [await startInstance('a', 1000), await startInstance('b', 1000)];
      const event = sampleEvent('batch.failed');
      expect((await a.deliver(signDelivery(JSON.stringify(event)))).status).toBe(200);
      await eventually(() =>
        expect(runs).toEqual([{ instance: 'a', eventId: event.id, attempt: 1 }]),
      );
      // A is cut off from the database mid-run: it can neither renew its hold nor record.
      await a.app.get<EventStore>(EVENT_STORE).close();
      await eventually(() => expect(runs.map((run) => run.instance)).toEqual(['a', 'b']), 10_000);
      expect(runs[1]).toEqual({ instance: 'b', eventId: event.id, attempt: 1 });
      release();
      const store = b.app.get<EventStore>(EVENT_STORE);
      await eventually(async () =>
        expect((await store.find(event.id))?.runs).toMatchObject([
          { handler: 'RecordingHandlers.record', status: 'done', attempts: 1 },
        ]),
      );
    } finally {
      release();
    }
  });
});
