import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { newEvent } from '../../webhooks/store/event-store.contract';
import { SqliteEventStore } from '../../webhooks/store/sqlite-event-store';

describe('checkpoints on a worker thread (a store in a file)', () => {
  let dir: string;
  let filename: string;
  let store: SqliteEventStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-checkpoint-'));
    filename = join(dir, 'switchboard.db');
    store = new SqliteEventStore({ filename });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('does not spin while a reader holds frames it cannot copy (a backup, a check)', async () => {
    const asked = jest.spyOn(Worker.prototype, 'postMessage');
    try {
      await store.append(newEvent(), []);
      // A reader's snapshot from now: frames committed after it cannot be copied back.
      const reader = new Database(filename, { readonly: true });
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM events').get();
      try {
        for (let i = 0; i < 20; i++) await store.append(newEvent(), []);
        asked.mockClear();
        await new Promise((resolve) => setTimeout(resolve, 2500));
        // One round a second, not one after another (it was thousands a second).
        expect(
          asked.mock.calls.filter(([message]) => message === 'checkpoint').length,
        ).toBeLessThanOrEqual(4);
      } finally {
        reader.exec('COMMIT');
        reader.close();
      }
    } finally {
      asked.mockRestore();
    }
  });

  it('copies the log back while writes go on, and the log starts over instead of growing', async () => {
    const payload = JSON.stringify({ padding: 'x'.repeat(4000) });
    // About 37 MB of log in 2,200 commits, at most 500 a second (so at most about 9 MB of log
    // a second, however fast the machine): SQLite's own checkpoint (at 10,000 pages, 40 MB)
    // would not run once, the database file would stay empty and the log would hold it all.
    let largestLog = 0;
    for (let i = 0; i < 2200; i++) {
      await store.append(newEvent({ payload }), ['handler']);
      if (i % 5 === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      largestLog = Math.max(largestLog, statSync(`${filename}-wal`).size);
    }
    const copiedBack = statSync(filename).size;
    expect(copiedBack).toBeGreaterThan(2_000_000);
    // Started over while the writes went on (a round each second): it never held all of them at
    // once. A loaded machine delays a round or two (the log reached 19 MB of 25 once), so the
    // bound is two thirds of what the log would hold without the worker.
    expect(largestLog).toBeLessThan(24_000_000);

    // What the worker copied is the database's: another connection reads it without the log.
    await store.close();
    const reader = new Database(filename, { readonly: true });
    try {
      expect(reader.prepare('SELECT count(*) AS n FROM events').get()).toEqual({ n: 2200 });
    } finally {
      reader.close();
    }
  });
});
