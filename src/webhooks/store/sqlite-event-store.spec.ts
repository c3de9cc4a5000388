import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreOpenError } from '../../common/sqlite/open-sqlite-store';
import { StoreUnavailableError } from '../../common/store/store-health';
import { NewEvent } from './event-store';
import { SqliteEventStore } from './sqlite-event-store';

/** Overwrites `pages` 4 KiB pages in the middle of a file: damaged data pages. */
function damageMiddlePages(file: string, pages: number): void {
  const start = Math.floor(statSync(file).size / 2 / 4096) * 4096;
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(pages * 4096, 0xa5), 0, pages * 4096, start);
  closeSync(fd);
}

/** Polls until the check passes, for at most `timeoutMs`. */
async function eventually(check: () => Promise<void>, timeoutMs = 10_000): Promise<void> {
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
function newEvent(overrides: Partial<NewEvent> = {}): NewEvent {
  counter += 1;
  return {
    webhookId: `wh_${counter}`,
    eventId: `evt_${counter}`,
    type: 'batch.completed',
    source: 'openai',
    payload: JSON.stringify({ n: counter }),
    receivedAt: 1_000_000 + counter,
    ...overrides,
  };
}

describe('SqliteEventStore', () => {
  let dir: string;
  let store: SqliteEventStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-store-'));
    store = new SqliteEventStore({ filename: join(dir, 'switchboard.db') });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores one event per webhook id, whether the copies share a commit or not', async () => {
    const event = newEvent();
    const sameTurn = await Promise.all([
      store.append(event, ['A.a']),
      store.append(event, ['A.a']),
    ]);
    const later = await store.append({ ...event, eventId: 'evt_other' }, ['A.a']);
    expect(sameTurn.map((r) => r.inserted)).toEqual([true, false]);
    expect(later).toMatchObject({
      inserted: false,
      event: { seq: sameTurn[0].event.seq, eventId: event.eventId },
    });
    expect(await store.list({ limit: 10 })).toHaveLength(1);
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
    expect((await store.openRuns()).map((r) => [r.handler, r.attempts, r.nextAttemptAt])).toEqual([
      ['A.flaky', 1, 99],
    ]);

    await store.resetRuns(event.seq, ['A.ok', 'A.new']);
    expect((await store.openRuns()).map((r) => r.handler)).toEqual(['A.flaky', 'A.new', 'A.ok']);
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

  it('survives closing and reopening: what was committed is there', async () => {
    const { event } = await store.append(newEvent(), ['A.a']);
    await store.close();
    store = new SqliteEventStore({ filename: join(dir, 'switchboard.db') });
    expect(await store.find(event.webhookId)).toMatchObject({
      seq: event.seq,
      runs: [{ handler: 'A.a', status: 'pending' }],
    });
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
      reason: expect.objectContaining({ message: expect.stringContaining('FOREIGN KEY') }),
    });
    expect(third).toMatchObject({ status: 'fulfilled', value: { inserted: true } });
    expect(heard).toHaveLength(2);
    expect(await store.list({ limit: 10 })).toHaveLength(2);
  });

  it('rejects every write when the database itself fails, so none is acknowledged', async () => {
    await store.close();
    await expect(store.append(newEvent(), [])).rejects.toThrow(/database connection is not open/);
    expect(await store.checkReady()).toEqual({
      ready: false,
      problem: 'the event store is closed',
    });
  });
});

describe('SqliteEventStore on a damaged file', () => {
  let dir: string;
  let file: string;
  const stores: SqliteEventStore[] = [];

  /** A store file with about 5 MB of events (more than the page cache), then damaged pages. */
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-damaged-'));
    file = join(dir, 'switchboard.db');
    const writer = new SqliteEventStore({ filename: file, synchronous: 'normal' });
    const payload = JSON.stringify({ padding: 'x'.repeat(16 * 1024) });
    await Promise.all(Array.from({ length: 300 }, () => writer.append(newEvent({ payload }), [])));
    await writer.close();
    damageMiddlePages(file, 64);
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const open = (options: { integrityCheckBudgetMs?: number } = {}) => {
    const store = new SqliteEventStore({ filename: file, ...options });
    stores.push(store);
    return store;
  };

  it('opens (the header is intact), and its integrity check refuses it, naming the file', async () => {
    const store = open();
    await expect(store.checkIntegrity()).rejects.toThrow(StoreOpenError);
    await expect(store.checkIntegrity()).rejects.toThrow(
      new RegExp(`^the event store ${file} is corrupt \\(PRAGMA quick_check: .+\\); restore it`),
    );
  });

  it('lets the start go on when the check takes longer than its budget, and is not ready once it finds the damage', async () => {
    const store = open({ integrityCheckBudgetMs: 0 });
    await store.checkIntegrity(); // out of budget at once: the check goes on in the background
    await eventually(async () =>
      expect(await store.checkReady()).toEqual({
        ready: false,
        problem: expect.stringMatching(/^the event store is corrupt: PRAGMA quick_check: /),
      }),
    );
  });

  it('reports damage met by a read as corrupt (503), and stays not ready', async () => {
    const store = open();
    await expect(store.list({ limit: 500 })).rejects.toThrow(
      new StoreUnavailableError(
        'the event store is corrupt: database disk image is malformed (SQLITE_CORRUPT)',
      ),
    );
    await store.append(newEvent(), []); // a write elsewhere in the file still works
    expect(await store.checkReady()).toMatchObject({ ready: false });
  });
});
