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
import { claim, describeCallStoreContract } from '../call-store.contract';
import { CREATE_CALLS, UPDATE_CALLS } from './call-routines';
import { PostgresCallStore } from './postgres-call-store';

describeCallStoreContract(
  'PostgresCallStore',
  () => {
    let schema: Promise<TestSchema> | undefined;
    const open = async () => {
      schema ??= createTestSchema('calls');
      return PostgresCallStore.open({ url: (await schema).url });
    };
    return { open, reopen: open, cleanup: async () => (await schema)?.drop() };
  },
  TEST_DATABASE_URL ? describe : describe.skip,
);

describeWithPostgres('PostgresCallStore across instances', () => {
  let schema: TestSchema;
  const stores: PostgresCallStore[] = [];
  const open = async () => {
    const store = await PostgresCallStore.open({ url: schema.url });
    stores.push(store);
    return store;
  };
  beforeEach(async () => (schema = await createTestSchema('calls_x')));
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await schema.drop();
  });

  it('migrates once when several instances start at once, and keeps records as one document', async () => {
    const [a] = await Promise.all([open(), open(), open()]);
    const rows = await schema.query<{ component: string; version: number }>(
      `SELECT component, version FROM ${schema.name}.schema_migrations ORDER BY version`,
    );
    expect(rows).toEqual([
      { component: 'calls', version: 1 },
      { component: 'calls', version: 2 },
    ]);
    await claim(a, 'realtime', 'rtc_doc');
    const [{ type }] = await schema.query<{ type: string }>(
      `SELECT jsonb_typeof(record) AS type FROM ${schema.name}.calls`,
    );
    expect(type).toBe('object');
  });

  it('tells every instance when any instance saves the rule set', async () => {
    const [a, b] = [await open(), await open()];
    let heard = 0;
    const stop = b.watchRuleSet(() => (heard += 1));
    // The listener is connected once readiness says so.
    for (let i = 0; i < 100 && !(await b.checkReady()).ready; i++)
      await new Promise((r) => setTimeout(r, 20));
    const before = heard; // once when it began listening
    expect(await a.saveRuleSet({ rules: [] }, 'v1', undefined)).toBe(true);
    expect(await a.saveRuleSet({ rules: [] }, 'v1', undefined)).toBe(false); // no change, no word
    for (let i = 0; i < 250 && heard === before; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    expect(heard).toBe(before + 1);
    stop();
    expect(await b.checkReady()).toEqual({ ready: true }); // a stopped watch is no lost connection
  });

  it('refuses a schema migrated by a newer release', async () => {
    await (await open()).close();
    stores.length = 0;
    await schema.query(
      `INSERT INTO ${schema.name}.schema_migrations (component, version, name) VALUES ('calls', 99, 'future')`,
    );
    await expect(PostgresCallStore.open({ url: schema.url })).rejects.toThrow(
      /^the call store cannot use PostgreSQL at .*: migration|the calls schema is at version 99/,
    );
  });
});

describeWithPostgres('PostgresCallStore when the database goes away', () => {
  let schema: TestSchema;
  let proxy: TcpProxy;
  let store: PostgresCallStore;
  beforeEach(async () => {
    schema = await createTestSchema('calls_outage');
    const target = new URL(schema.url);
    proxy = await new TcpProxy(target.hostname, Number(target.port || 5432)).start();
    store = await PostgresCallStore.open({ url: proxy.url(schema.url) });
  });
  afterEach(async () => {
    await store.close();
    await proxy.stop();
    await schema.drop();
  });

  it('is not ready and refuses writes as unavailable (503) while it is gone, and recovers by itself', async () => {
    await claim(store, 'realtime', 'rtc_before');
    await proxy.stop(); // every connection cut, new ones refused
    const ready = await store.checkReady();
    expect(ready).toEqual({
      ready: false,
      problem: expect.stringMatching(/^the call store cannot reach PostgreSQL: /),
    });
    const refused = await claim(store, 'realtime', 'rtc_during').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StoreUnavailableError);
    await proxy.start(); // the same port: the database is back
    for (let i = 0; i < 200 && !(await store.checkReady()).ready; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(await store.checkReady()).toEqual({ ready: true });
    expect(await claim(store, 'realtime', 'rtc_after')).toEqual({ outcome: 'created' });
    expect((await store.get('rtc_before'))?.call_id).toBe('rtc_before');
  });
});

describeWithPostgres('PostgresCallStore statement plans', () => {
  const db = migratedSchema('calls_plans', (url) => PostgresCallStore.open({ url }));

  const create = (n: number) =>
    db.client.query({
      ...CREATE_CALLS,
      values: [
        [String(n)],
        JSON.stringify([
          {
            ord: 0,
            call_id: `rtc_${n}`,
            status: 'acting',
            record: { call_id: `rtc_${n}`, status: 'acting' },
            pair_key: `key_${n}`,
            surface: 'realtime',
            id: `rtc_${n}`,
          },
        ]),
      ],
    });
  const update = (n: number) =>
    db.client.query({
      ...UPDATE_CALLS,
      values: [
        JSON.stringify([
          {
            call_id: `rtc_${n}`,
            patch: { status: 'completed' },
            expected: 'acting',
            holder: 'i1',
            lease_ms: 10000,
          },
        ]),
      ],
    });

  it('probes the indexes to create and update calls, however large the tables have grown', async () => {
    // Plans made (and kept by the session) while the tables are all but empty...
    for (let n = 1; n <= 8; n++) {
      await create(n);
      await update(n);
    }
    // ...then the tables grow, with no ANALYZE.
    await db.schema.query(
      `INSERT INTO ${db.schema.name}.calls (call_id, status, record, pair_key)
       SELECT 'old_' || g, 'acting', '{}', 'old_key_' || g FROM generate_series(1, 30000) g;
       INSERT INTO ${db.schema.name}.call_ids (surface, id, call)
       SELECT 'realtime', call_id, id FROM ${db.schema.name}.calls WHERE call_id LIKE 'old_%'`,
    );
    const plans = await plansOf(db.client, async () => {
      await create(100);
      await update(100);
    });
    if (plans !== undefined) {
      expect(plans).toMatch(/Index (Only )?Scan using call_ids_by_id on call_ids/);
      expect(plans).toMatch(/Index (Only )?Scan using calls_pair_key on calls/);
      expect(plans).toMatch(/Index Scan using calls_call_id_key on calls/);
      expect(plans).not.toMatch(/Seq Scan on (calls|call_ids)/);
    }
    const [row] = await db.schema.query<{ status: string; holder: string }>(
      `SELECT status, sideband_holder AS holder FROM ${db.schema.name}.calls WHERE call_id = 'rtc_100'`,
    );
    expect(row).toEqual({ status: 'completed', holder: 'i1' });
  });
});
