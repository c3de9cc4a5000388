import fs, { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WalSync } from './wal-sync';

type SyncCallback = (error: NodeJS.ErrnoException | null) => void;

/** fdatasync held by the test: each call waits until the test lets it return. */
function holdSyncs(): { pending: SyncCallback[]; restore: () => void } {
  const pending: SyncCallback[] = [];
  const spy = jest.spyOn(fs, 'fdatasync').mockImplementation(((
    _fd: number,
    callback: SyncCallback,
  ) => {
    pending.push(callback);
  }) as unknown as typeof fs.fdatasync);
  return { pending, restore: () => spy.mockRestore() };
}

const settled = async (promise: Promise<unknown>) => {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  return done;
};

describe('WalSync', () => {
  let dir: string;
  let database: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-walsync-'));
    database = join(dir, 'store.db');
    writeFileSync(`${database}-wal`, 'frames');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('syncs the real log file', async () => {
    const wal = new WalSync(database);
    await expect(wal.sync()).resolves.toBeUndefined();
    await wal.close();
  });

  it('covers commits made during a sync with the next one, never with the one running', async () => {
    const syncs = holdSyncs();
    try {
      const wal = new WalSync(database);
      const first = wal.sync();
      // Two more commits while the first sync runs: they wait for one more, shared.
      const second = wal.sync();
      const third = wal.sync();
      expect(syncs.pending).toHaveLength(1);

      syncs.pending[0](null);
      expect(await settled(first)).toBe(true);
      expect(await settled(second)).toBe(false);
      expect(syncs.pending).toHaveLength(2);

      syncs.pending[1](null);
      expect(await settled(second)).toBe(true);
      expect(await settled(third)).toBe(true);
      expect(syncs.pending).toHaveLength(2);
    } finally {
      syncs.restore();
    }
  });

  it('reports a failed fsync as SQLite reports a failed sync of its log', async () => {
    const syncs = holdSyncs();
    try {
      const wal = new WalSync(database);
      const sync = wal.sync();
      syncs.pending[0](Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
      await expect(sync).rejects.toMatchObject({
        code: 'SQLITE_IOERR_FSYNC',
        message: 'the write-ahead log could not be synced: EIO: i/o error, fdatasync',
      });
      // No later sync proves anything (Linux may have dropped the failed pages): each fails
      // with the first failure, without asking the disk.
      await expect(wal.sync()).rejects.toMatchObject({ code: 'SQLITE_IOERR_FSYNC' });
      expect(syncs.pending).toHaveLength(1);
    } finally {
      syncs.restore();
    }
  });

  it('names the missing log when it cannot be opened', async () => {
    rmSync(`${database}-wal`);
    await expect(new WalSync(database).sync()).rejects.toMatchObject({
      code: 'SQLITE_IOERR_FSYNC',
      message: expect.stringContaining('store.db-wal'),
    });
  });
});
