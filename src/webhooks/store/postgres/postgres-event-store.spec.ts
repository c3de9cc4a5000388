import {
  createTestSchema,
  describeWithPostgres,
  TEST_DATABASE_URL,
  TestSchema,
} from '../../../../test/support/postgres';
import { TcpProxy } from '../../../../test/support/tcp-proxy';
import { StoreUnavailableError } from '../../../common/store/store-health';
import { describeEventStoreContract, eventually, newEvent } from '../event-store.contract';
import { EVENT_MIGRATIONS } from './event-migrations';
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
      expect(rows).toEqual(
        EVENT_MIGRATIONS.map(({ version }) => ({ component: 'events', version })),
      );
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
      /the events schema is at version 99, newer than this release knows \(2\)/,
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
