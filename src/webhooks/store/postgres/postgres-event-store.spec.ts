import {
  createTestSchema,
  describeWithPostgres,
  migratedSchema,
  plansOf,
  TEST_DATABASE_URL,
  TestSchema,
} from '../../../../test/support/postgres';
import { TcpProxy } from '../../../../test/support/tcp-proxy';
import { StoreUnavailableError } from '../../../common/store/store-health';
import { describeEventStoreContract, eventually, newEvent } from '../event-store.contract';
import { APPEND_BATCH_CALL } from './event-routines';
import { PostgresEventStore } from './postgres-event-store';

/** Short leases, so that a run left by a closed store is claimable within the test. */
const LEASE_MS = 300;

describeEventStoreContract(
  'PostgresEventStore',
  () => {
    let schema: Promise<TestSchema> | undefined;
    const open = async () => {
      schema ??= createTestSchema('contract');
      return PostgresEventStore.open({ url: (await schema).url, runLeaseMs: LEASE_MS });
    };
    return { open, reopen: open, cleanup: async () => (await schema)?.drop() };
  },
  TEST_DATABASE_URL ? describe : describe.skip,
);

describeWithPostgres('PostgresEventStore start-up', () => {
  let schema: TestSchema;
  beforeEach(async () => (schema = await createTestSchema('startup')));
  afterEach(() => schema.drop());

  it('migrates once when several instances start at once on an empty schema', async () => {
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => PostgresEventStore.open({ url: schema.url })),
    );
    try {
      const rows = await schema.query<{ component: string; version: number }>(
        `SELECT component, version FROM ${schema.name}.schema_migrations ORDER BY version`,
      );
      expect(rows).toEqual([{ component: 'events', version: 1 }]);
      const appended = await Promise.all(
        stores.map((store, i) =>
          store.append(
            {
              webhookId: `wh_${i}`,
              eventId: `evt_${i}`,
              type: 'batch.completed',
              source: 'openai',
              payload: '{}',
              receivedAt: 1,
            },
            [],
          ),
        ),
      );
      expect(appended.map((a) => a.event.seq).sort()).toEqual([1, 2, 3, 4]);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('refuses, in one line naming the server, a database it cannot reach', async () => {
    const url = new URL(TEST_DATABASE_URL!);
    url.port = '1'; // nothing listens there
    await expect(PostgresEventStore.open({ url: url.toString() })).rejects.toThrow(
      /^the event store cannot use PostgreSQL at 127\.0\.0\.1:1\/\w+: ECONNREFUSED$/,
    );
  });

  it('refuses a schema migrated by a newer release', async () => {
    const store = await PostgresEventStore.open({ url: schema.url });
    await store.close();
    await schema.query(
      `INSERT INTO ${schema.name}.schema_migrations (component, version, name) VALUES ('events', 99, 'future')`,
    );
    await expect(PostgresEventStore.open({ url: schema.url })).rejects.toThrow(
      /the events schema is at version 99, newer than this release knows \(1\)/,
    );
  });
});

describeWithPostgres('PostgresEventStore when the database goes away', () => {
  let schema: TestSchema;
  let proxy: TcpProxy;
  let store: PostgresEventStore;
  beforeEach(async () => {
    schema = await createTestSchema('outage');
    const target = new URL(schema.url);
    proxy = await new TcpProxy(target.hostname, Number(target.port || 5432)).start();
    store = await PostgresEventStore.open({ url: proxy.url(schema.url) });
  });
  afterEach(async () => {
    await store.close();
    await proxy.stop();
    await schema.drop();
  });

  it('is not ready and refuses writes as unavailable (503) while it is gone, and recovers by itself', async () => {
    const heard: number[] = [];
    store.subscribe((event) => heard.push(event.seq));
    await store.append(newEvent(), []);
    await proxy.stop(); // every connection cut, new ones refused

    await eventually(async () =>
      expect(await store.checkReady()).toEqual({
        ready: false,
        problem: expect.stringMatching(
          /^the event store (cannot reach PostgreSQL|has lost its LISTEN connection)/,
        ),
      }),
    );
    const refused = await store.append(newEvent(), []).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StoreUnavailableError);
    expect((refused as Error).message).toMatch(/^the event store cannot reach PostgreSQL: /);

    await proxy.start(); // the same port: the database is back
    await eventually(async () => expect(await store.checkReady()).toEqual({ ready: true }));
    const { event } = await store.append(newEvent(), []);
    expect(heard).toEqual([1, event.seq]);
  });
});

describeWithPostgres('PostgresEventStore batch plans', () => {
  const db = migratedSchema('plans', (url) => PostgresEventStore.open({ url }));

  /** A batch of `count` appends from `first` on, each with a run, and outcomes of `done`. */
  const batch = (first: number, count: number, done: number[]) =>
    db.client.query({
      ...APPEND_BATCH_CALL,
      values: [
        JSON.stringify({
          events: Array.from({ length: count }, (_, i) => ({
            ord: i + 1,
            webhook_id: `wh_${first + i}`,
            event_id: `evt_${first + i}`,
            type: 'response.completed',
            source: 'openai',
            payload: '{}',
            received_at: 1,
            handlers: ['h'],
          })),
          outcomes: done.map((seq) => ({ seq, handler: 'h', status: 'done', error: null })),
          instance: 'i1',
          lease_ms: 30000,
          now: 2,
          channel: 'c',
        }),
      ],
    });

  it('probes the indexes, however large the tables have grown since its plans were made', async () => {
    // Plans made (and kept by the session) while the tables are all but empty...
    for (let i = 1; i <= 8; i++) await batch(i, 1, i > 1 ? [i - 1] : []);
    // ...then the tables grow, with no ANALYZE (autovacuum's first one comes after a minute).
    await db.schema.query(
      `INSERT INTO ${db.schema.name}.events (seq, webhook_id, event_id, type, source, payload, received_at)
       SELECT g, 'old_' || g, 'evt_old_' || g, 'response.completed', 'openai', '{}', 1
       FROM generate_series(100, 30099) g;
       INSERT INTO ${db.schema.name}.handler_runs (seq, handler, status, attempts, updated_at, lease_owner)
       SELECT g, 'h', 'pending', 0, 1, 'i1' FROM generate_series(100, 30099) g;
       UPDATE ${db.schema.name}.event_counter SET seq = 30099`,
    );
    const plans = await plansOf(db.client, () => batch(40000, 2, [30000, 30001]));
    // The webhook-id check and the outcomes' lookup each probe an index; nothing reads a table
    // through (a hash join over a scan of either table cost 3 ms at 12,000 rows, and growing).
    if (plans !== undefined) {
      expect(plans).toMatch(/Index (Only )?Scan using events_webhook_id_unique on events/);
      expect(plans).toMatch(/Index Scan on handler_runs_pkey|Index Scan using handler_runs_pkey/);
      expect(plans).not.toMatch(/Seq Scan on (events|handler_runs)|Full Scan/);
    }
    const stored = await db.schema.query<{ seq: number; status: string }>(
      `SELECT seq::int AS seq, status FROM ${db.schema.name}.handler_runs WHERE seq IN (30000, 30001, 30100, 30101) ORDER BY seq`,
    );
    expect(stored).toEqual([
      { seq: 30000, status: 'done' },
      { seq: 30001, status: 'done' },
      { seq: 30100, status: 'pending' },
      { seq: 30101, status: 'pending' },
    ]);
  });
});
