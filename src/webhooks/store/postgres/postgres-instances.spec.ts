import {
  createTestSchema,
  describeWithPostgres,
  TestSchema,
} from '../../../../test/support/postgres';
import { TcpProxy } from '../../../../test/support/tcp-proxy';
import { eventually, newEvent } from '../event-store.contract';
import { StoredEvent } from '../event-store';
import { PostgresEventStore } from './postgres-event-store';

/** Several instances' stores on one schema, as several Switchboard processes would have. */
describeWithPostgres('PostgresEventStore shared by several instances', () => {
  let schema: TestSchema;
  const stores: PostgresEventStore[] = [];
  let proxy: TcpProxy;
  const open = async (runLeaseMs = 30_000, url = schema.url) => {
    const store = await PostgresEventStore.open({ url, runLeaseMs });
    stores.push(store);
    return store;
  };
  /**
   * An instance whose every packet to the database is 15 ms late: its transactions stay open
   * long after they began, so without commit-ordered numbers the other instance's later
   * numbers would commit (and be read) before this one's earlier ones.
   */
  const openSlow = async () => {
    const target = new URL(schema.url);
    proxy = await new TcpProxy(target.hostname, Number(target.port || 5432)).start();
    const store = await open(30_000, proxy.url(schema.url));
    proxy.delayMs = 15;
    return store;
  };

  /** Appends from both instances for a while, a few at a time; how many. */
  const writeFromBoth = async (a: PostgresEventStore, b: PostgresEventStore) => {
    const writes: Promise<unknown>[] = [];
    for (let round = 0; round < 40; round++) {
      for (let k = 0; k < 5; k++) writes.push((k % 2 ? a : b).append(newEvent(), []));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await Promise.all(writes);
    return writes.length;
  };

  beforeEach(async () => (schema = await createTestSchema('instances')));
  afterEach(async () => {
    if (proxy) proxy.delayMs = 0;
    for (const store of stores.splice(0)) await store.close();
    await proxy?.stop();
    await schema.drop();
  });

  it('stores a webhook id once when its copies reach two instances at the same moment', async () => {
    const [a, b] = [await open(), await open()];
    const copies = Array.from({ length: 50 }, () => newEvent());
    const results = await Promise.all(
      copies.flatMap((event) => [a.append(event, ['H.h']), b.append(event, ['H.h'])]),
    );
    for (let i = 0; i < copies.length; i++) {
      const [fromA, fromB] = [results[2 * i], results[2 * i + 1]];
      expect([fromA.inserted, fromB.inserted].filter(Boolean)).toHaveLength(1);
      expect(fromA.event.seq).toBe(fromB.event.seq);
    }
    const [{ events, runs }] = await schema.query<{ events: number; runs: number }>(
      `SELECT (SELECT count(*)::int FROM ${schema.name}.events) AS events,
              (SELECT count(*)::int FROM ${schema.name}.handler_runs) AS runs`,
    );
    expect({ events, runs }).toEqual({ events: 50, runs: 50 });
  });

  it('announces, on every instance, every instance’s events once and in order while both write at once', async () => {
    const instances = [await openSlow(), await open(), await open()];
    const heard = instances.map(() => [] as StoredEvent[]);
    instances.forEach((store, i) => store.subscribe((event) => heard[i].push(event)));
    // Two writers, one slow, each with commits in flight all the time, so that their
    // transactions overlap; the third instance only listens.
    const total = await writeFromBoth(instances[0], instances[1]);
    await eventually(async () => {
      for (const list of heard) expect(list).toHaveLength(total);
    });
    const expected = Array.from({ length: total }, (_, i) => i + 1);
    for (const list of heard) expect(list.map((e) => e.seq)).toEqual(expected);
    // Each instance heard the same event under each number.
    expect(heard[1].map((e) => e.webhookId)).toEqual(heard[0].map((e) => e.webhookId));
    expect(heard[2].map((e) => e.webhookId)).toEqual(heard[0].map((e) => e.webhookId));
  });

  it('never shows a reader a later number before an earlier one commits', async () => {
    const [a, b] = [await openSlow(), await open()];
    // A reader polling the table while two instances write: what it sees is always every
    // number from 1 up to the highest it sees (the numbers are handed out in commit order).
    let stop = false;
    const gaps: string[] = [];
    const reader = (async () => {
      while (!stop) {
        const rows = await schema.query<{ seq: number }>(
          `SELECT seq::int FROM ${schema.name}.events ORDER BY seq`,
        );
        rows.forEach((row, i) => {
          if (row.seq !== i + 1) gaps.push(`saw ${rows.map((r) => r.seq).join(',')}`);
        });
      }
    })();
    await writeFromBoth(a, b);
    stop = true;
    await reader;
    expect(gaps.slice(0, 3)).toEqual([]);
  });

  it('lets one instance claim a run that nobody holds; claims at once never share a run', async () => {
    const writer = await open(200);
    const appended = await Promise.all(
      Array.from({ length: 40 }, () => writer.append(newEvent(), ['H.one', 'H.two'])),
    );
    expect(appended).toHaveLength(40);
    await writer.close(); // stops renewing: its 80 runs are free once 200 ms have passed
    const [b, c] = [await open(), await open()];
    await new Promise((resolve) => setTimeout(resolve, 250));
    const [byB, byC] = await Promise.all([b.claimRuns(60), c.claimRuns(60)]);
    const keys = (runs: typeof byB) => runs.map((r) => `${r.event.seq}/${r.handler}`);
    expect(byB.length + byC.length).toBe(80);
    expect(keys(byB).filter((key) => keys(byC).includes(key))).toEqual([]);
    expect(await b.claimRuns(100)).toEqual([]);
  });

  it('keeps a renewed run with its instance; once renewals stop, another takes it over and the first learns it lost it', async () => {
    const [a, b] = [await open(300), await open(300)];
    const { event } = await a.append(newEvent(), ['H.slow']);
    const run = { seq: event.seq, handler: 'H.slow' };
    // While `a` renews, `b` finds nothing to claim, past several lease lengths.
    const until = Date.now() + 1000;
    while (Date.now() < until) {
      expect(await a.renewLeases([run])).toEqual([]);
      expect(await b.claimRuns(10)).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // `a` stops renewing (a long pause, a lost connection): `b` claims the run after the lease.
    await eventually(async () => expect(await b.claimRuns(10)).toHaveLength(1));
    expect(await a.renewLeases([run])).toEqual([run]);
    // `a`'s late outcome does not overwrite what `b` records.
    await a.recordAttempt(event.seq, 'H.slow', { status: 'failed', error: 'late' });
    await b.recordAttempt(event.seq, 'H.slow', { status: 'done' });
    expect((await b.find(event.eventId))?.runs).toMatchObject([
      { handler: 'H.slow', status: 'done', attempts: 1, lastError: null },
    ]);
  });

  it('prunes on one instance at a time', async () => {
    const [a, b] = [await open(), await open()];
    await Promise.all(Array.from({ length: 20 }, () => a.append(newEvent({ receivedAt: 5 }), [])));
    const removed = await Promise.all([a.pruneBefore(10), b.pruneBefore(10)]);
    expect(removed.reduce((x, y) => x + y)).toBe(20);
    expect(await a.list({ limit: 50 })).toEqual([]);
  });

  it('skips a pruning round while another instance is pruning (it holds the lock)', async () => {
    const [a, b] = [await open(), await open()];
    await Promise.all(Array.from({ length: 5 }, () => a.append(newEvent({ receivedAt: 5 }), [])));
    const key = `hashtext('${schema.name}.switchboard.prune-events')`;
    // The test's own session stands for an instance in the middle of its round.
    await schema.query(`SELECT pg_advisory_lock(${key})`);
    try {
      expect(await b.pruneBefore(10)).toBe(0);
      expect(await a.list({ limit: 50 })).toHaveLength(5);
    } finally {
      await schema.query(`SELECT pg_advisory_unlock(${key})`);
    }
    expect(await b.pruneBefore(10)).toBe(5);
  });
});
