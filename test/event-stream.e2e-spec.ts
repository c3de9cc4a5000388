import { Module } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { EventStreamModule } from '../src/stream/event-stream.module';
import { EventStreamServer } from '../src/stream/event-stream.server';
import { EventStore, StoredEvent } from '../src/webhooks/store/event-store';
import { SqliteEventStore } from '../src/webhooks/store/sqlite-event-store';
import { SwitchboardEventPublisher } from '../src/webhooks/switchboard-event.publisher';
import { sampleEvent } from './support/sample-events';
import { startService } from './support/service-process';
import { signDelivery, TEST_SECRET } from './support/signing';
import { TestStreamClient, TestStreamClientOptions } from './support/stream-client';
import { LateAnsweringStore } from './support/late-answering-store';
import { createTestApp, eventually, TestApp, TestAppOptions } from './support/test-app';

const ADMIN = 'stream-admin-token';
const READER = 'dashboard-read-token';

describe('WebSocket event stream at /events', () => {
  let t: TestApp;
  const clients: TestStreamClient[] = [];

  async function start(
    stream: Parameters<typeof EventStreamModule.forRoot>[0] = {},
    app: Pick<TestAppOptions, 'options'> = {},
  ) {
    @Module({
      imports: [EventStreamModule.forRoot({ adminToken: ADMIN, readTokens: [READER], ...stream })],
    })
    class StreamTestModule {}
    t = await createTestApp({ imports: [StreamTestModule], listen: true, ...app });
    closeApp = t.close;
  }
  /** Stores a test made itself: the app does not close a store it was handed. */
  const stores: EventStore[] = [];
  let closeApp: (() => Promise<void>) | undefined;
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await closeApp?.();
    closeApp = undefined;
    for (const store of stores.splice(0)) await store.close();
  });
  /** The real SQLite store behind `LateAnsweringStore`, closed after the test. */
  function lateAnsweringStore(): LateAnsweringStore {
    const store = new LateAnsweringStore(new SqliteEventStore({ filename: ':memory:' }));
    stores.push(store);
    return store;
  }

  const url = (query = '') => `ws://127.0.0.1:${t.port}/events${query}`;
  async function connect(
    query = '',
    token: string | undefined = ADMIN,
    options?: TestStreamClientOptions,
  ) {
    const client = await TestStreamClient.connect(url(query), token, options);
    clients.push(client);
    return client;
  }
  async function subscribe(
    client: TestStreamClient,
    message: Record<string, unknown>,
    timeoutMs = 5000,
  ) {
    const before = client.messages.length;
    client.send({ op: 'subscribe', ...message });
    await eventually(
      () =>
        expect(
          client.closeCode !== undefined ||
            client.messages.slice(before).some((m) => m.type === 'caught_up' || m.type === 'error'),
        ).toBe(true),
      timeoutMs,
    );
    expect(client.closeReason).toBeUndefined();
  }
  /** Waits for the end of the catch-up, or for the connection to end (and then fails). */
  async function caughtUp(client: TestStreamClient, timeoutMs = 5000) {
    await eventually(
      () =>
        expect(
          client.closeCode !== undefined || client.messages.some((m) => m.type === 'caught_up'),
        ).toBe(true),
      timeoutMs,
    );
    expect(client.closeReason).toBeUndefined();
  }
  const post = (type: string, overrides: Record<string, unknown> = {}) =>
    t.deliver(signDelivery(JSON.stringify(sampleEvent(type, overrides)))).expect(200);

  describe('authentication before the upgrade', () => {
    beforeEach(() => start());

    it.each([
      ['no token', undefined, ''],
      ['a wrong token', 'not-the-token', ''],
      ['a wrong token in the query', undefined, '?token=nope'],
    ])('refuses %s with HTTP 401 and no socket', async (_case, token, query) => {
      await expect(TestStreamClient.connect(url(query), token)).rejects.toThrow('HTTP 401');
      expect(t.app.get(EventStreamServer).clientCount).toBe(0);
    });

    it('accepts the admin token as a header and a read token in the query (for browsers)', async () => {
      await connect();
      await connect(`?token=${READER}`, undefined);
      expect(t.app.get(EventStreamServer).clientCount).toBe(2);
    });
  });

  it('is off (404) when no token is configured', async () => {
    await start({ adminToken: undefined, readTokens: [] });
    await expect(TestStreamClient.connect(url(), ADMIN)).rejects.toThrow('HTTP 404');
  });

  describe('filters and order', () => {
    beforeEach(() => start());

    it('delivers only the subscribed types, each with its sequence number, in order', async () => {
      const client = await connect();
      await subscribe(client, { types: ['batch.*', 'response.completed'] });
      for (const type of [
        'batch.completed',
        'eval.run.failed',
        'response.completed',
        'batch.failed',
        'response.failed',
      ])
        await post(type);
      await eventually(() => expect(client.events()).toHaveLength(3));
      expect(client.events().map((m) => m.event!.type)).toEqual([
        'batch.completed',
        'response.completed',
        'batch.failed',
      ]);
      expect(client.seqs()).toEqual([1, 3, 4]);
    });

    it('follows one call by id, across Switchboard’s own call events', async () => {
      const client = await connect();
      await subscribe(client, { types: ['call.*'], call_ids: ['rtc_mine'] });
      const publisher = t.app.get(SwitchboardEventPublisher);
      await publisher.publish('call.routed', { call_id: 'rtc_other' });
      await publisher.publish('call.routed', { call_id: 'rtc_mine' });
      await publisher.publish('call.accepted', { call_id: 'rtc_mine' });
      await eventually(() => expect(client.events()).toHaveLength(2));
      expect(client.events().map((m) => [m.event!.type, m.event!.data.call_id, m.source])).toEqual([
        ['call.routed', 'rtc_mine', 'switchboard'],
        ['call.accepted', 'rtc_mine', 'switchboard'],
      ]);
    });

    it('unsubscribes', async () => {
      const client = await connect();
      await subscribe(client, { types: ['batch.*', 'response.*'] });
      client.send({ op: 'unsubscribe', types: ['batch.*'] });
      await eventually(() =>
        expect(client.messages.filter((m) => m.type === 'subscribed')).toHaveLength(2),
      );
      await post('batch.completed');
      await post('response.completed');
      await eventually(() =>
        expect(client.events().map((m) => m.event!.type)).toEqual(['response.completed']),
      );
    });
  });

  describe('catch-up', () => {
    beforeEach(() => start());

    it('sends what was missed since a sequence number, then live events', async () => {
      for (const type of ['batch.completed', 'batch.failed', 'batch.expired']) await post(type);
      const client = await connect();
      await subscribe(client, { types: ['*'], since: 1 });
      expect(client.seqs()).toEqual([2, 3]);
      expect(client.messages.find((m) => m.type === 'caught_up')).toMatchObject({ seq: 3 });
      await post('batch.cancelled');
      await eventually(() => expect(client.seqs()).toEqual([2, 3, 4]));
    });

    it('leaves no gap and no duplicate at the seam while events keep arriving', async () => {
      for (let i = 0; i < 700; i++)
        await t.store.append(
          {
            webhookId: `pre_${i}`,
            eventId: `evt_pre_${i}`,
            type: 'batch.completed',
            source: 'openai',
            payload: JSON.stringify({
              id: `evt_pre_${i}`,
              type: 'batch.completed',
              data: { id: `b${i}` },
            }),
            receivedAt: Date.now(),
          },
          [],
        );
      // Deliveries keep arriving the whole time, and, to be sure the seam is crossed, a batch is
      // also delivered (and committed) while the stream is between two catch-up reads.
      let posting = true;
      let posted = 0;
      const load = (async () => {
        while (posting && posted < 400) {
          await Promise.all(Array.from({ length: 8 }, () => post('response.completed')));
          posted += 8;
        }
      })();
      const read = t.store.list.bind(t.store);
      let injected = 0;
      t.store.list = async (query) => {
        const page = await read(query);
        if (injected === 0) {
          injected = 5;
          await Promise.all(Array.from({ length: injected }, () => post('batch.failed')));
        }
        return page;
      };
      const client = await connect();
      await subscribe(client, { types: ['*'], since: 100 });
      posting = false;
      await load;
      const head = (await read({ afterSeq: 0, limit: 10_000 })).at(-1)!.seq;
      await eventually(() => expect(client.seqs().at(-1)).toBe(head));
      expect(client.seqs()).toEqual(Array.from({ length: head - 100 }, (_, i) => 101 + i));
      // Events committed during the catch-up came through the held-aside path, before caught_up.
      const caughtUp = client.messages.findIndex((m) => m.type === 'caught_up');
      const injectedSeqs = client.events().filter((m) => m.event!.type === 'batch.failed');
      expect(injectedSeqs).toHaveLength(5);
      for (const m of injectedSeqs) expect(client.messages.indexOf(m)).toBeLessThan(caughtUp);
    });

    it('streams from the newest event when since is ahead of the store, and says so', async () => {
      await post('batch.completed');
      const client = await connect();
      await subscribe(client, { types: ['*'], since: 1000 });
      expect(client.messages.find((m) => m.type === 'error')?.message).toBe(
        'since 1000 is ahead of the newest event (1); streaming from 1',
      );
      await post('batch.failed');
      await eventually(() => expect(client.seqs()).toEqual([2]));
    });

    it('accepts since only on the first subscribe', async () => {
      const client = await connect();
      await subscribe(client, { types: ['batch.*'] });
      await subscribe(client, { types: ['response.*'], since: 0 });
      expect(client.messages.at(-1)).toMatchObject({
        type: 'error',
        message: expect.stringContaining('since is accepted only'),
      });
    });
  });

  describe('catch-up over a large or growing backlog', () => {
    it('gives a client that reads steadily its whole backlog of large events on one connection', async () => {
      await start();
      // 20 MiB of events, far past the 4 MiB a client may have waiting: catch-up must go at the
      // client's pace instead of writing whole pages into the socket.
      await appendEvents(t.store, 40, 500 * 1024);
      const client = await connect();
      await subscribe(client, { types: ['*'], since: 0 }, 20_000);
      expect(client.seqs()).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(client.messages.at(-1)).toMatchObject({ type: 'caught_up', seq: 40 });
      expect(client.closeCode).toBeUndefined();
    });

    // More live events arrive during one catch-up read than a client may have held aside, by
    // count (more than 10,000) or by size (more than the 4 MiB budget).
    it.each([
      ['more events', 12_000, 100],
      ['more bytes', 300, 20 * 1024],
    ])(
      'keeps a client whose catch-up is outpaced by live events (%s than it may hold), reading them from the store',
      async (_case, live, bytes) => {
        const store = lateAnsweringStore();
        await start({}, { options: { store } });
        await appendEvents(store, 10, 100);
        const client = await connect();
        store.holdReads = true;
        client.send({ op: 'subscribe', types: ['*'], since: 0 });
        await eventually(() => expect(store.heldReads).toBe(1)); // the newest sequence number
        store.release();
        await eventually(() => expect(store.heldReads).toBe(1)); // the first page: 1 to 10
        await appendEvents(store, live, bytes);
        store.holdReads = false;
        store.release();
        const total = 10 + live;
        await caughtUp(client, 20_000);
        expect(client.seqs()).toEqual(Array.from({ length: total }, (_, i) => i + 1));
        await appendEvents(store, 1, 100);
        await eventually(() => expect(client.seqs().at(-1)).toBe(total + 1));
      },
    );
  });

  describe('subscribing without since, with a store that answers late', () => {
    it('sends every event committed while the newest sequence number was being read', async () => {
      const store = lateAnsweringStore();
      await start({}, { options: { store } });
      await post('batch.completed'); // 1: before the subscription
      const client = await connect();
      store.holdReads = true;
      client.send({ op: 'subscribe', types: ['*'] });
      await eventually(() => expect(store.heldReads).toBe(1));
      // Committed after the store read its head (1), before the stream heard the answer.
      await post('batch.failed');
      await post('batch.expired');
      store.holdReads = false;
      store.release();
      await eventually(() =>
        expect(client.messages.find((m) => m.type === 'caught_up')).toMatchObject({ seq: 3 }),
      );
      expect(client.seqs()).toEqual([2, 3]);
      await post('batch.cancelled');
      await eventually(() => expect(client.seqs()).toEqual([2, 3, 4]));
    });

    it('reads them from the store when more were committed meanwhile than it may hold aside', async () => {
      const store = lateAnsweringStore();
      await start({}, { options: { store } });
      await appendEvents(store, 1, 100);
      const client = await connect();
      store.holdReads = true;
      client.send({ op: 'subscribe', types: ['*'] });
      await eventually(() => expect(store.heldReads).toBe(1));
      await appendEvents(store, 300, 20 * 1024); // 6 MiB, past the 4 MiB held aside at most
      store.holdReads = false;
      store.release();
      await caughtUp(client);
      expect(client.seqs()).toEqual(Array.from({ length: 300 }, (_, i) => i + 2));
    });
  });

  describe('slow consumers', () => {
    const blob = 'x'.repeat(64 * 1024);

    /** Publishes 64 KiB events until the server has dropped every client (bounded). */
    async function publishUntilDropped(): Promise<StoredEvent[]> {
      const server = t.app.get(EventStreamServer);
      const publisher = t.app.get(SwitchboardEventPublisher);
      const published: StoredEvent[] = [];
      while (server.clientCount > 0 && published.length < 1000)
        published.push(await publisher.publish('bulk.export', { blob }));
      expect(server.clientCount).toBe(0);
      return published;
    }

    it('tells a client that stopped reading why it was cut off (4008), however late it reads again', async () => {
      await start();
      const slow = await connect();
      await subscribe(slow, { types: ['*'] });
      slow.pauseReading();
      const published = await publishUntilDropped();
      // Being slow, it reads again well after the server gave up on it.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      slow.resumeReading();
      await eventually(() => expect(slow.closeCode).toBe(4008), 10_000);
      expect(slow.closeReason).toBe(
        'slow consumer: over 4194304 bytes unsent; reconnect with since=<last seq received>',
      );
      // What it got is a gap-free prefix, so resuming from its last sequence loses nothing.
      const received = slow.seqs();
      expect(received).toEqual(published.slice(0, received.length).map((e) => e.seq));
      const resumed = await connect();
      await subscribe(resumed, { types: ['*'], since: received.at(-1) ?? 0 }, 20_000);
      expect(resumed.seqs()).toEqual(published.slice(received.length).map((e) => e.seq));
    });

    it('holds at most 4 MiB for a client by default, and drops that backlog to cut it off', async () => {
      await start();
      const slow = await connect();
      await subscribe(slow, { types: ['*'] });
      slow.pauseReading();
      const published = await publishUntilDropped();
      slow.resumeReading();
      await eventually(() => expect(slow.closeCode).toBe(4008), 10_000);
      // What the socket was handed reached the client ahead of the close frame; the rest waited in
      // the server, within the budget, until the last event did not fit, and was dropped.
      const waiting = published.slice(slow.seqs().length, -1);
      const waitingBytes = waiting.reduce((sum, event) => sum + wireBytes(event), 0);
      expect(waitingBytes).toBeLessThanOrEqual(4 * 1024 * 1024);
      expect(waitingBytes + wireBytes(published.at(-1)!)).toBeGreaterThan(4 * 1024 * 1024);
    });
  });

  describe('slow consumers at shutdown', () => {
    it('shuts down promptly while a client it cut off has not read its close frame', async () => {
      await start();
      const slow = await connect();
      await subscribe(slow, { types: ['*'] });
      slow.pauseReading();
      const publisher = t.app.get(SwitchboardEventPublisher);
      const blob = 'x'.repeat(64 * 1024);
      for (let i = 0; i < 1000 && t.app.get(EventStreamServer).clientCount > 0; i++)
        await publisher.publish('bulk.export', { blob });
      expect(t.app.get(EventStreamServer).clientCount).toBe(0);
      const app = t;
      closeApp = undefined;
      const outcome = await Promise.race([
        app.close().then(() => 'closed'),
        new Promise((resolve) => setTimeout(() => resolve('still closing after 10 s'), 10_000)),
      ]);
      expect(outcome).toBe('closed');
    });
  });

  describe('documented defaults', () => {
    it('takes client messages up to 16 KiB and closes the connection on a larger one (1009)', async () => {
      await start();
      const client = await connect();
      const ping = (bytes: number) => {
        const frame = '{"op":"ping","pad":""}';
        return frame.replace('""', `"${'x'.repeat(bytes - frame.length)}"`);
      };
      client.send(ping(16 * 1024));
      await eventually(() => expect(client.messages).toContainEqual({ type: 'pong', seq: 0 }));
      client.send(ping(16 * 1024 + 1));
      await eventually(() => expect(client.closeCode).toBe(1009));
    });

    it('takes 256 subscriptions per client and refuses the 257th', async () => {
      await start();
      const client = await connect();
      const types = Array.from({ length: 255 }, (_, i) => `type${i}.*`);
      await subscribe(client, { types, call_ids: ['rtc_1'] });
      expect(client.messages.find((m) => m.type === 'subscribed')).toMatchObject({
        types,
        call_ids: ['rtc_1'],
      });
      await subscribe(client, { types: ['one.more'] });
      expect(client.messages.at(-1)).toMatchObject({
        type: 'error',
        message: 'at most 256 subscriptions (types and call ids) per client',
      });
    });

    it('pings every 30 s and drops a client that did not answer the previous ping', async () => {
      // Only the heartbeat's clock is simulated; sockets and everything else run for real.
      jest.useFakeTimers({
        doNotFake: [
          'Date',
          'hrtime',
          'nextTick',
          'performance',
          'queueMicrotask',
          'setImmediate',
          'clearImmediate',
          'setTimeout',
          'clearTimeout',
        ],
      });
      try {
        await start();
        const healthy = await connect();
        const mute = await connect('', ADMIN, { autoPong: false });
        jest.advanceTimersByTime(29_999);
        await healthy.roundTrip();
        await mute.roundTrip();
        expect([healthy.pings, mute.pings]).toEqual([0, 0]);
        jest.advanceTimersByTime(1);
        await eventually(() => expect([healthy.pings, mute.pings]).toEqual([1, 1]));
        await healthy.roundTrip(); // its pong has reached the server
        jest.advanceTimersByTime(30_000);
        await eventually(() => expect(mute.closeCode).toBe(1006));
        await healthy.roundTrip();
        expect(healthy.pings).toBe(2);
        expect(t.app.get(EventStreamServer).clientCount).toBe(1);
      } finally {
        jest.useRealTimers();
      }
    });
  });

  describe('the service (dist/main.js)', () => {
    it('drops a client that stops answering pings after STREAM_HEARTBEAT_MS, not one that answers', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-stream-'));
      const service = await startService({
        OPENAI_WEBHOOK_SECRET: TEST_SECRET,
        DATA_DIR: dataDir,
        PORT: '0',
        HOST: '127.0.0.1',
        ADMIN_TOKEN: ADMIN,
        STREAM_HEARTBEAT_MS: '1000',
      });
      const serviceUrl = `ws://127.0.0.1:${service.port}/events`;
      try {
        const healthy = await TestStreamClient.connect(serviceUrl, ADMIN);
        const mute = await TestStreamClient.connect(serviceUrl, ADMIN, { autoPong: false });
        clients.push(healthy, mute);
        // With the default (30 s) it would still be connected long after this deadline.
        await eventually(() => expect(mute.closeCode).toBe(1006), 10_000);
        expect(mute.pings).toBeGreaterThanOrEqual(1);
        await healthy.roundTrip();
        expect(healthy.closeCode).toBeUndefined();
        expect(healthy.pings).toBeGreaterThanOrEqual(1);
      } finally {
        service.child.kill('SIGKILL');
        await service.exited;
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });

  describe('bad clients', () => {
    it('answers malformed messages with errors and keeps every subscription', async () => {
      await start();
      const client = await connect();
      await subscribe(client, { types: ['batch.*'] });
      for (const bad of [
        'not json',
        '[1,2]',
        '{"op":"dance"}',
        '{"op":"subscribe","types":["bad type!"]}',
        '{"op":"subscribe","since":-1}',
      ]) {
        client.send(bad);
      }
      await eventually(() =>
        expect(client.messages.filter((m) => m.type === 'error')).toHaveLength(5),
      );
      expect(client.messages.filter((m) => m.type === 'error').map((m) => m.message)).toEqual([
        expect.stringContaining('not JSON'),
        expect.stringContaining('JSON object'),
        expect.stringContaining('unknown op'),
        expect.stringContaining('types must be a list'),
        expect.stringContaining('since must be'),
      ]);
      await post('batch.completed');
      await eventually(() => expect(client.events()).toHaveLength(1));
    });

    it('closes a client that sends an oversized frame (1009) and no other', async () => {
      await start({ maxMessageBytes: 1024 });
      const big = await connect();
      const other = await connect();
      await subscribe(other, { types: ['*'] });
      big.send({ op: 'subscribe', types: ['x'.repeat(5000)] });
      await eventually(() => expect(big.closeCode).toBe(1009));
      await post('batch.completed');
      await eventually(() => expect(other.events()).toHaveLength(1));
    });

    it('limits subscriptions per client', async () => {
      await start({ maxSubscriptions: 3 });
      const client = await connect();
      await subscribe(client, { types: ['a.*', 'b.*', 'c.*', 'd.*'] });
      expect(client.messages.at(-1)).toMatchObject({
        type: 'error',
        message: 'at most 3 subscriptions (types and call ids) per client',
      });
    });

    it('cuts off a client that stops reading, while a healthy one keeps receiving', async () => {
      await start({ maxBufferedBytes: 256 * 1024 });
      const slow = await connect();
      const healthy = await connect();
      await subscribe(slow, { types: ['*'] });
      await subscribe(healthy, { types: ['*'] });
      slow.socket.pause();
      const server = t.app.get(EventStreamServer);
      const publisher = t.app.get(SwitchboardEventPublisher);
      const blob = 'x'.repeat(200 * 1024);
      let published = 0;
      while (server.clientCount === 2 && published < 500) {
        await publisher.publish('bulk.export', { blob });
        published += 1;
      }
      expect(server.clientCount).toBe(1);
      slow.socket.resume();
      await eventually(() => expect(slow.closeCode).toBe(4008));
      expect(slow.closeReason).toContain('slow consumer');
      await eventually(() => expect(healthy.events()).toHaveLength(published), 10_000);
    });

    it('drops a peer that stops answering pings', async () => {
      await start({ heartbeatMs: 50 });
      const dead = await connect();
      const server = t.app.get(EventStreamServer);
      await eventually(() => expect(server.clientCount).toBe(1));
      dead.socket.pause(); // no more pongs
      await eventually(() => expect(server.clientCount).toBe(0), 3000);
    });
  });

  it('closes clients with 1001 on shutdown, naming how to resume', async () => {
    await start();
    const client = await connect();
    await subscribe(client, { types: ['*'] });
    const closed = new Promise<number>((resolve) =>
      client.socket.once('close', (code) => resolve(code)),
    );
    await t.app.close();
    expect(await closed).toBe(1001);
    expect(client.closeReason).toContain('reconnect with since=');
    closeApp = undefined;
  });

  it('answers an unparsable request target with 400 and keeps serving', async () => {
    await start();
    const { connect } = await import('node:net');
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      const socket = connect(t.port, '127.0.0.1', () =>
        socket.write(
          'GET //[ HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        ),
      );
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    await expectStreamOpens();
  });

  async function expectStreamOpens() {
    const client = await connect();
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
  }

  it('refuses upgrades on other paths', async () => {
    await start();
    const socket = new WebSocket(`ws://127.0.0.1:${t.port}/elsewhere`, {
      headers: { Authorization: `Bearer ${ADMIN}` },
    });
    const status = await new Promise<number | undefined>((resolve) => {
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode));
      socket.once('error', () => resolve(undefined));
    });
    expect(status).toBe(404);
  });
});

/** Appends `count` events straight to the store, each carrying about `bytes` of payload. */
async function appendEvents(store: EventStore, count: number, bytes: number): Promise<void> {
  const blob = 'x'.repeat(bytes);
  const appends: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const id = `evt_${randomUUID()}`;
    appends.push(
      store.append(
        {
          webhookId: id,
          eventId: id,
          type: 'bulk.export',
          source: 'openai',
          payload: JSON.stringify({ id, type: 'bulk.export', data: { blob } }),
          receivedAt: Date.now(),
        },
        [],
      ),
    );
  }
  await Promise.all(appends);
}

/** The size of an event's message on the wire, as the README documents it. */
function wireBytes(event: StoredEvent): number {
  return Buffer.byteLength(
    `{"type":"event","seq":${event.seq},"source":"${event.source}","event":${event.payload}}`,
  );
}
