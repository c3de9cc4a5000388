import { Worker } from 'node:worker_threads';
import { sqliteFailure } from './sqlite-failure';

export type IntegrityVerdict = { ok: true } | { ok: false; problems: string[] };

export interface IntegrityCheck {
  /** Settles when the check has read the whole file; rejects only if it could not run at all. */
  verdict: Promise<IntegrityVerdict>;
  /** Stops the check (the store is closing). */
  stop(): void;
}

/** How many problems SQLite reports before it stops looking: the first few say enough. */
const MAX_PROBLEMS = 5;

/**
 * `PRAGMA quick_check` reads every page of the file (about 3 s per GB from the page cache,
 * longer from a cold disk), so it runs in a worker thread on its own read-only connection: the
 * caller can bound how long it waits and let a large store's check finish in the background.
 * It finds damaged pages and b-trees, not index entries that disagree with their rows.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
let db;
try {
  db = new Database(workerData.file, { readonly: true, fileMustExist: true });
  const rows = db.pragma('quick_check(' + workerData.maxProblems + ')', { simple: false });
  parentPort.postMessage({ rows: rows.map((row) => String(Object.values(row)[0])) });
} catch (error) {
  parentPort.postMessage({ error: { code: error.code, message: error.message } });
} finally {
  if (db) db.close();
}
`;

export function startQuickCheck(file: string): IntegrityCheck {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { driver: require.resolve('better-sqlite3'), file, maxProblems: MAX_PROBLEMS },
  });
  worker.unref(); // a check still running never keeps the process alive
  const verdict = new Promise<IntegrityVerdict>((resolve, reject) => {
    worker.once(
      'message',
      (message: { rows?: string[]; error?: { code?: string; message: string } }) => {
        if (message.rows) return resolve(verdictOf(message.rows));
        const failure = sqliteFailure(message.error);
        if (failure?.kind === 'corrupt') return resolve({ ok: false, problems: [failure.text] });
        reject(new Error(`${message.error?.message} (${message.error?.code})`));
      },
    );
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the check stopped early (exit code ${code})`)));
  });
  verdict.catch(() => undefined); // a caller that stopped waiting must not see an unhandled rejection
  return { verdict, stop: () => void worker.terminate() };
}

function verdictOf(rows: string[]): IntegrityVerdict {
  const problems = rows
    .flatMap((row) => row.split('\n'))
    .map((line) => line.trim())
    .filter((line) => line && line !== 'ok' && !/^\*\*\* in database/.test(line));
  return problems.length === 0 ? { ok: true } : { ok: false, problems };
}
