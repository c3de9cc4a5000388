import Database from 'better-sqlite3';
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleEvent } from './support/sample-events';
import { deliverTo } from './support/service-process';
import { signDelivery, TEST_SECRET } from './support/signing';
import { eventually } from './support/test-app';

const FIXTURE = join(__dirname, 'fixtures', 'crash-app.js');
const TOTAL = 400;
const KILL_AFTER_ACKS = 150;
const CONCURRENCY = 16;

interface Running {
  child: ChildProcess;
  port: number;
}

function start(dataDir: string, completions: string): Promise<Running> {
  const child = spawn(process.execPath, [FIXTURE], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      COMPLETIONS_FILE: completions,
      OPENAI_WEBHOOK_SECRET: TEST_SECRET,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('fixture app did not start in 15 s')), 15_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      const match = /LISTENING (\d+)/.exec(chunk.toString());
      if (match) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]) });
      }
    });
    child.on('exit', (code) => reject(new Error(`fixture app exited with ${code}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

describe('kill -9 in the middle of a load, then restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-crash-'));
  const completions = join(dataDir, 'completions.log');
  const children: ChildProcess[] = [];

  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('loses no acknowledged event and completes no handler run twice once it was recorded done', async () => {
    const first = await start(dataDir, completions);
    children.push(first.child);

    const deliveries = Array.from({ length: TOTAL }, () =>
      signDelivery(JSON.stringify(sampleEvent('batch.completed'))),
    );
    const acknowledged = new Set<string>();
    let next = 0;
    let killed = false;
    const worker = async () => {
      while (next < deliveries.length) {
        const delivery = deliveries[next++];
        const status = await deliverTo(first.port, delivery);
        if (status === 200) acknowledged.add(delivery.headers['webhook-id']);
        if (!killed && acknowledged.size >= KILL_AFTER_ACKS) {
          killed = true;
          first.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await exited(first.child);
    expect(killed).toBe(true);
    expect(acknowledged.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);

    // What the store holds right after the crash: every acknowledged event, some runs open.
    const db = new Database(join(dataDir, 'switchboard.db'), { readonly: true });
    const stored = new Set(
      (db.prepare('SELECT webhook_id FROM events').all() as { webhook_id: string }[]).map(
        (r) => r.webhook_id,
      ),
    );
    const openAtKill = new Set(
      (
        db
          .prepare(
            `SELECT e.webhook_id FROM handler_runs r JOIN events e USING (seq) WHERE r.status <> 'done'`,
          )
          .all() as { webhook_id: string }[]
      ).map((r) => r.webhook_id),
    );
    db.close();
    for (const id of acknowledged) expect(stored).toContain(id);
    // The kill caught handlers mid-run, so the restart really has work to resume.
    expect(openAtKill.size).toBeGreaterThan(0);

    const second = await start(dataDir, completions);
    children.push(second.child);

    // A redelivery of an acknowledged event after the restart is still recognised.
    const redelivered = deliveries.find((d) => acknowledged.has(d.headers['webhook-id']))!;
    const again = await fetch(`http://127.0.0.1:${second.port}/webhooks/openai`, {
      method: 'POST',
      headers: redelivered.headers,
      body: redelivered.body,
    });
    expect(await again.json()).toMatchObject({ duplicate: true });

    await eventually(() => {
      const check = new Database(join(dataDir, 'switchboard.db'), { readonly: true });
      try {
        const open = check
          .prepare(`SELECT count(*) AS n FROM handler_runs WHERE status <> 'done'`)
          .get() as { n: number };
        expect(open.n).toBe(0);
      } finally {
        check.close();
      }
    }, 20_000);

    const completed = lines(completions);
    const counts = new Map<string, number>();
    for (const id of completed) counts.set(id, (counts.get(id) ?? 0) + 1);
    for (const id of stored) expect(counts.get(id) ?? 0).toBeGreaterThanOrEqual(1);
    // A run runs again only if the crash came before its completion was recorded.
    const twice = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
    for (const id of twice) expect(openAtKill).toContain(id);
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(2);
  }, 60_000);
});
