import fs, { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreOpenError } from '../../common/sqlite/open-sqlite-store';
import { StoreUnavailableError } from '../../common/store/store-health';
import { describeEventStoreContract, eventually, newEvent } from './event-store.contract';
import { SqliteEventStore } from './sqlite-event-store';

/** Overwrites `pages` 4 KiB pages in the middle of a file: damaged data pages. */
function damageMiddlePages(file: string, pages: number): void {
  const start = Math.floor(statSync(file).size / 2 / 4096) * 4096;
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(pages * 4096, 0xa5), 0, pages * 4096, start);
  closeSync(fd);
}

describeEventStoreContract('SqliteEventStore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-store-'));
  const filename = join(dir, 'switchboard.db');
  return {
    open: async () => new SqliteEventStore({ filename }),
    reopen: async () => new SqliteEventStore({ filename }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

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

  it('rejects every write when the database itself fails, so none is acknowledged', async () => {
    await store.close();
    await expect(store.append(newEvent(), [])).rejects.toThrow(/database connection is not open/);
    expect(await store.checkReady()).toEqual({
      ready: false,
      problem: 'the event store is closed',
    });
  });
});

describe('SqliteEventStore durability (synchronous full, the default)', () => {
  let dir: string;
  let store: SqliteEventStore;
  let pending: ((error: NodeJS.ErrnoException | null) => void)[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-store-'));
    store = new SqliteEventStore({ filename: join(dir, 'switchboard.db') });
    pending = [];
    // The log's fsync, held until the test lets it return (or fail, as a failing disk would).
    jest.spyOn(fs, 'fdatasync').mockImplementation(((_fd: number, callback: never) => {
      pending.push(callback);
    }) as unknown as typeof fs.fdatasync);
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const untilSyncAsked = async () => {
    for (let i = 0; i < 50 && pending.length === 0; i++)
      await new Promise((resolve) => setImmediate(resolve));
    expect(pending).toHaveLength(1);
  };

  it('answers an append, and announces its event, only once the log is synced', async () => {
    const announced: number[] = [];
    store.subscribe((event) => announced.push(event.seq));
    let answered = false;
    const append = store.append(newEvent(), ['handler']).then((result) => {
      answered = true;
      return result;
    });
    await untilSyncAsked();
    expect({ answered, announced }).toEqual({ answered: false, announced: [] });

    pending[0](null);
    const result = await append;
    expect(result.inserted).toBe(true);
    expect(announced).toEqual([result.event.seq]);
  });

  it('shows an event to readers (list, head) only once its commit is synced', async () => {
    const append = store.append(newEvent(), []);
    await untilSyncAsked();
    expect({ head: await store.headSeq(), listed: await store.list({ limit: 10 }) }).toEqual({
      head: 0,
      listed: [],
    });
    pending[0](null);
    const { event } = await append;
    expect(await store.headSeq()).toBe(event.seq);
    expect((await store.list({ limit: 10 })).map((e) => e.seq)).toEqual([event.seq]);
  });

  it('after a failed sync takes no more writes and stays not ready until a restart', async () => {
    const first = newEvent();
    const append = store.append(first, ['handler']);
    await untilSyncAsked();
    pending.shift()!(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    await expect(append).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(append).rejects.toThrow(/could not be synced: EIO/);

    // The sender delivers it again: 503 again, not a 2xx for an event that may not be on disk.
    await expect(store.append(first, ['handler'])).rejects.toThrow(/restart the service/);
    await expect(store.append(newEvent(), [])).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(pending).toHaveLength(0); // refused before any commit or sync
    // Readiness probes a failing store with a write once a second: not this failure.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await store.checkReady()).toEqual({
      ready: false,
      problem: expect.stringMatching(/does not take writes: .*could not be synced.*restart/),
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
