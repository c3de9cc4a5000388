import { EventStore, NewEvent } from './event-store';

/**
 * What every EventStore promises, run against each store (SQLite and PostgreSQL) by its spec.
 * `open` gives a store on fresh, empty storage; `reopen` another store on the same storage
 * (a restarted process, or a second instance).
 */
export interface EventStoreHarness {
  open(): Promise<EventStore>;
  reopen(): Promise<EventStore>;
  cleanup(): Promise<void>;
}

/** Polls until the check passes, for at most `timeoutMs`. */
export async function eventually(check: () => Promise<void>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

let counter = 0;
export function newEvent(overrides: Partial<NewEvent> = {}): NewEvent {
  counter += 1;
  const tag = `${process.pid}_${counter}`;
  return {
    webhookId: `wh_${tag}`,
    eventId: `evt_${tag}`,
    type: 'batch.completed',
    source: 'openai',
    payload: JSON.stringify({ n: counter }),
    receivedAt: 1_000_000 + counter,
    ...overrides,
  };
}

export function describeEventStoreContract(
  name: string,
  makeHarness: () => EventStoreHarness,
  describeIt: jest.Describe = describe,
): void {
  describeIt(`${name}: the EventStore contract`, () => {
    let harness: EventStoreHarness;
    let store: EventStore;
    const others: EventStore[] = [];
    const reopen = async () => {
      const another = await harness.reopen();
      others.push(another);
      return another;
    };

    beforeEach(async () => {
      harness = makeHarness();
      store = await harness.open();
    });
    afterEach(async () => {
      for (const other of others.splice(0)) await other.close();
      await store.close();
      await harness.cleanup();
    });

    it('stores one event per webhook id, whether the copies share a commit or not', async () => {
      const event = newEvent();
      const sameTurn = await Promise.all([
        store.append(event, ['A.a']),
        store.append(event, ['A.a']),
      ]);
      const later = await store.append({ ...event, eventId: 'evt_other' }, ['A.a']);
      expect(sameTurn.map((r) => r.inserted)).toEqual([true, false]);
      expect(sameTurn[1].event.seq).toBe(sameTurn[0].event.seq);
      expect(later).toMatchObject({
        inserted: false,
        event: { seq: sameTurn[0].event.seq, eventId: event.eventId },
      });
      expect(await store.list({ limit: 10 })).toHaveLength(1);
      expect((await store.find(event.webhookId))?.runs).toHaveLength(1);
    });

    it('numbers events in increasing order and never reuses a number after pruning', async () => {
      const first = await store.append(newEvent({ receivedAt: 1 }), []);
      const second = await store.append(newEvent({ receivedAt: 2 }), []);
      expect(second.event.seq).toBe(first.event.seq + 1);
      expect(await store.pruneBefore(10)).toBe(2);
      const third = await store.append(newEvent({ receivedAt: 20 }), []);
      expect(third.event.seq).toBe(second.event.seq + 1);
    });

    it('keeps each handler run through retries to done or failed, and lists the open ones', async () => {
      const { event } = await store.append(newEvent(), ['A.ok', 'A.flaky', 'A.broken']);
      await store.recordAttempt(event.seq, 'A.ok', { status: 'done' });
      await store.recordAttempt(event.seq, 'A.flaky', {
        status: 'retrying',
        error: 'E1',
        nextAttemptAt: 99,
      });
      await store.recordAttempt(event.seq, 'A.broken', { status: 'failed', error: 'E2' });

      const found = await store.find(event.eventId);
      expect(
        found!.runs.map(({ handler, status, attempts, lastError, nextAttemptAt }) => [
          handler,
          status,
          attempts,
          lastError,
          nextAttemptAt,
        ]),
      ).toEqual([
        ['A.broken', 'failed', 1, 'E2', null],
        ['A.flaky', 'retrying', 1, 'E1', 99],
        ['A.ok', 'done', 1, null, null],
      ]);
      expect((await store.openRuns()).map((r) => [r.handler, r.attempts, r.nextAttemptAt])).toEqual(
        [['A.flaky', 1, 99]],
      );

      await store.resetRuns(event.seq, ['A.ok', 'A.new']);
      expect((await store.openRuns()).map((r) => r.handler)).toEqual(['A.flaky', 'A.new', 'A.ok']);
    });

    it('records outcomes asked for together, alone or in the commit of new events, and two of one run in order', async () => {
      const { event } = await store.append(newEvent(), ['A.one', 'A.two', 'A.three', 'A.four']);
      await Promise.all([
        store.recordAttempt(event.seq, 'A.one', { status: 'done' }),
        store.recordAttempt(event.seq, 'A.two', { status: 'failed', error: 'E' }),
      ]);
      const [, next] = await Promise.all([
        store.recordAttempt(event.seq, 'A.three', { status: 'done' }),
        store.append(newEvent(), ['B.one']),
      ]);
      expect(next.inserted).toBe(true);
      await Promise.all([
        store.recordAttempt(event.seq, 'A.four', {
          status: 'retrying',
          error: 'E1',
          nextAttemptAt: 5,
        }),
        store.recordAttempt(event.seq, 'A.four', { status: 'done' }),
      ]);
      const runs = (await store.find(event.eventId))!.runs;
      expect(runs.map((r) => [r.handler, r.status, r.attempts, r.lastError])).toEqual([
        ['A.four', 'done', 2, null],
        ['A.one', 'done', 1, null],
        ['A.three', 'done', 1, null],
        ['A.two', 'failed', 1, 'E'],
      ]);
      expect((await store.find(next.event.eventId))!.runs).toMatchObject([
        { handler: 'B.one', status: 'pending', attempts: 0 },
      ]);
    });

    it('keeps a payload byte for byte, quotes, backslashes and all', async () => {
      const payload = `{"text":"it's \\ a \\"quoted\\" \\u00e9 é 😀 \\n"} '' \\' E'x'`;
      const [one, two] = await Promise.all([
        store.append(newEvent({ payload }), ['A.h']),
        store.append(newEvent({ payload, webhookId: "wh_it's\\" }), []),
      ]);
      expect((await store.find(one.event.eventId))?.payload).toBe(payload);
      expect((await store.find(two.event.webhookId))?.payload).toBe(payload);
      expect(two.event.webhookId).toBe("wh_it's\\");
    });

    it('finds an event by event id, webhook id or sequence number', async () => {
      const { event } = await store.append(newEvent(), []);
      for (const key of [event.eventId, event.webhookId, String(event.seq)]) {
        expect((await store.find(key))?.seq).toBe(event.seq);
      }
      expect(await store.find('evt_none')).toBeUndefined();
    });

    it('filters by exact type and by prefix, where "_" is a letter, not a wildcard', async () => {
      await store.append(newEvent({ type: 'fine_tuning.job.failed' }), []);
      await store.append(newEvent({ type: 'fineXtuning.job.failed' }), []);
      await store.append(newEvent({ type: 'fine_tuning.job.succeeded' }), []);
      const types = async (type: string) =>
        (await store.list({ type, limit: 10 })).map((e) => e.type);
      expect(await types('fine_tuning.*')).toEqual([
        'fine_tuning.job.failed',
        'fine_tuning.job.succeeded',
      ]);
      expect(await types('fine_tuning.job.failed')).toEqual(['fine_tuning.job.failed']);
      expect(await types('*')).toHaveLength(3);
    });

    it('announces each new event once its commit is done, in sequence order, and never a duplicate', async () => {
      const heard: number[] = [];
      const stop = store.subscribe((event) => heard.push(event.seq));
      store.subscribe(() => {
        throw new Error('a broken listener');
      });
      const first = newEvent();
      const appends = [
        store.append(first, []),
        store.append(newEvent(), []),
        store.append(first, []),
      ];
      expect(heard).toEqual([]); // nothing before the commit
      await Promise.all(appends);
      expect(heard).toEqual([1, 2]);
      expect(await store.headSeq()).toBe(2);
      stop();
      await store.append(newEvent(), []);
      expect(heard).toEqual([1, 2]);
    });

    it('keeps what was committed for the next store on the same storage', async () => {
      const { event } = await store.append(newEvent(), ['A.a']);
      await store.close();
      const next = await reopen();
      expect(await next.find(event.webhookId)).toMatchObject({
        seq: event.seq,
        runs: [{ handler: 'A.a', status: 'pending' }],
      });
    });

    it('hands a run left open by a store that went away to the next one, once', async () => {
      const { event } = await store.append(newEvent(), ['A.left']);
      await store.recordAttempt(event.seq, 'A.left', {
        status: 'retrying',
        error: 'E1',
        nextAttemptAt: 5,
      });
      await store.close();
      const next = await reopen();
      // At once for a store one process owns; once the lease has passed for a shared one.
      let claimed: Awaited<ReturnType<EventStore['claimRuns']>> = [];
      await eventually(async () => {
        claimed = await next.claimRuns(10);
        expect(claimed).toHaveLength(1);
      });
      expect(claimed[0]).toMatchObject({
        event: { seq: event.seq, webhookId: event.webhookId },
        handler: 'A.left',
        attempts: 1,
        nextAttemptAt: 5,
      });
      expect(await next.claimRuns(10)).toEqual([]);
      expect(await next.renewLeases([{ seq: event.seq, handler: 'A.left' }])).toEqual([]);
      await next.recordAttempt(event.seq, 'A.left', { status: 'done' });
      expect((await next.find(event.eventId))?.runs).toMatchObject([
        { handler: 'A.left', status: 'done', attempts: 2 },
      ]);
    });

    it('fails only the bad write of a batch: the others in the same commit are stored and announced', async () => {
      const heard: number[] = [];
      store.subscribe((event) => heard.push(event.seq));
      const writes = [
        store.append(newEvent(), ['A.a']),
        store.resetRuns(999_999, ['A.a']), // no such event: a foreign-key violation
        store.append(newEvent(), ['A.a']),
      ];
      const [first, bad, third] = await Promise.allSettled(writes);
      expect(first).toMatchObject({ status: 'fulfilled', value: { inserted: true } });
      expect(bad).toMatchObject({
        status: 'rejected',
        reason: expect.objectContaining({ message: expect.stringMatching(/foreign key/i) }),
      });
      expect(third).toMatchObject({ status: 'fulfilled', value: { inserted: true } });
      expect(heard).toHaveLength(2);
      expect(await store.list({ limit: 10 })).toHaveLength(2);
    });

    it('commits a replay and new events asked for at the same moment, in order', async () => {
      const { event } = await store.append(newEvent(), ['A.a']);
      await store.recordAttempt(event.seq, 'A.a', { status: 'done' });
      const heard: number[] = [];
      store.subscribe((stored) => heard.push(stored.seq));
      // One batch: its replay is written first, then its appends, in one transaction.
      const [first, , second] = await Promise.all([
        store.append(newEvent(), ['A.a']),
        store.resetRuns(event.seq, ['A.a']),
        store.append(newEvent(), ['A.b']),
      ]);
      expect(first).toMatchObject({ inserted: true, event: { seq: event.seq + 1 } });
      expect(second).toMatchObject({ inserted: true, event: { seq: event.seq + 2 } });
      await eventually(async () => expect(heard).toEqual([event.seq + 1, event.seq + 2]));
      expect((await store.find(event.eventId))?.runs).toMatchObject([
        { handler: 'A.a', status: 'pending', attempts: 0 },
      ]);
      expect((await store.find(second.event.eventId))?.runs).toMatchObject([
        { handler: 'A.b', status: 'pending', attempts: 0 },
      ]);
    });

    it('refuses writes once closed, and says so in readiness', async () => {
      expect(await store.checkReady()).toEqual({ ready: true });
      await store.close();
      await expect(store.append(newEvent(), [])).rejects.toThrow();
      expect(await store.checkReady()).toEqual({
        ready: false,
        problem: 'the event store is closed',
      });
    });
  });
}
