import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createTestSchema,
  describeWithPostgres,
  TEST_DATABASE_URL,
  TestSchema,
} from './support/postgres';
import { sampleEvent } from './support/sample-events';
import { FakeOpenAI } from './support/fake-openai';
import { deliverTo, ringingCall, ServiceProcess, startService } from './support/service-process';
import { Delivery, signDelivery, TEST_SECRET } from './support/signing';
import { eventually } from './support/test-app';

const MAIN = join(__dirname, '..', 'dist', 'main.js');

describe('the service with DATABASE_URL', () => {
  let dataDir: string;
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'switchboard-pg-'))));
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const start = (databaseUrl: string) =>
    spawnSync(process.execPath, [MAIN], {
      env: {
        ...process.env,
        NODE_ENV: 'production',
        OPENAI_WEBHOOK_SECRET: TEST_SECRET,
        DATA_DIR: dataDir,
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: databaseUrl,
      },
      encoding: 'utf8',
      timeout: 15_000,
    });
  const stderrLines = (result: ReturnType<typeof start>) =>
    result.stderr.split('\n').filter((line) => line.trim() !== '');

  it('refuses, in one line, a URL that is not postgres://', () => {
    const result = start('mysql://root:hunter2@127.0.0.1/app');
    expect(stderrLines(result)).toEqual([
      'switchboard: cannot start: DATABASE_URL must be a postgres:// URL (got mysql://...): PostgreSQL is the one shared store',
    ]);
    expect(result.status).toBe(1);
  });

  it('refuses, in one line naming the server but not the password, a database it cannot reach', () => {
    const result = start('postgres://switchboard:hunter2@127.0.0.1:1/app');
    expect(stderrLines(result)).toEqual([
      'switchboard: cannot start: the event store cannot use PostgreSQL at 127.0.0.1:1/app: ECONNREFUSED',
    ]);
    expect(result.stdout + result.stderr).not.toContain('hunter2');
    expect(result.status).toBe(1);
  });
});

/**
 * Two services (dist/main.js) on one schema, as two replicas behind a load balancer; one is
 * killed with SIGKILL in the middle of a load, and the senders retry on the other, as OpenAI
 * retries a delivery that got no answer.
 */
describeWithPostgres('kill -9 one of two instances under load', () => {
  let schema: TestSchema;
  let fake: FakeOpenAI;
  const services: ServiceProcess[] = [];
  const dirs: string[] = [];

  const startInstance = async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-pg-'));
    dirs.push(dataDir);
    const service = await startService({
      NODE_ENV: 'production',
      OPENAI_WEBHOOK_SECRET: TEST_SECRET,
      DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: schema.url,
      HANDLER_LEASE_MS: '1000',
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.baseURL,
    });
    services.push(service);
    return service;
  };

  beforeAll(async () => {
    expect(TEST_DATABASE_URL).toBeDefined();
    schema = await createTestSchema('crash');
    fake = await FakeOpenAI.start();
  });
  afterAll(async () => {
    for (const service of services) service.child.kill('SIGKILL');
    await Promise.all(services.map((service) => service.exited));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await fake?.stop();
    await schema.drop();
  });

  it('loses no acknowledged event, leaves no handler run unfinished and acts on no call twice: the survivor takes over', async () => {
    const [a, b] = [await startInstance(), await startInstance()];
    const total = 240;
    // Every third delivery is a ringing call; OpenAI answers its control request slowly, so
    // that the kill finds calls whose action is under way.
    const callIds = new Map<string, string>();
    const deliveries: Delivery[] = Array.from({ length: total }, (_, i) => {
      if (i % 3) return signDelivery(JSON.stringify(sampleEvent('batch.completed')));
      const callId = `rtc_crash_${i}`;
      const delivery = ringingCall(callId);
      callIds.set(delivery.headers['webhook-id'], callId);
      return delivery;
    });
    fake.reply(...Array.from({ length: total }, () => ({ status: 200, delayMs: 50 })));
    const acknowledged = new Set<string>();
    let ackedByA = 0;
    let next = 0;
    const sender = async (index: number) => {
      while (next < total) {
        const delivery = deliveries[next++];
        // Half the senders start on A; one with no answer there goes to B, as a retry would.
        for (const target of index % 2 ? [a, b] : [b, a]) {
          const status = await deliverTo(target.port, delivery);
          if (status === 200) {
            acknowledged.add(delivery.headers['webhook-id']);
            if (target === a && ++ackedByA === 60) a.child.kill('SIGKILL');
            break;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, i) => sender(i)));
    expect(await a.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(acknowledged.size).toBe(total);

    // Every acknowledged event is stored, once.
    const stored = await schema.query<{ webhook_id: string }>(
      `SELECT webhook_id FROM ${schema.name}.events WHERE source = 'openai'`,
    );
    expect(stored.map((row) => row.webhook_id).sort()).toEqual([...acknowledged].sort());
    // Every handler run finishes, those A held when it died too, once B has taken them over.
    await eventually(async () => {
      const open = await schema.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM ${schema.name}.handler_runs WHERE status <> 'done'`,
      );
      expect(open).toEqual([{ count: 0 }]);
    }, 15_000);
    const [{ runs }] = await schema.query<{ runs: number }>(
      `SELECT count(*)::int AS runs FROM ${schema.name}.handler_runs`,
    );
    expect(runs).toBeGreaterThanOrEqual(total);

    // Every acknowledged call has its one record, settled: sent by one instance, or (its action
    // under way at the kill) marked outcome unknown by the survivor and not sent again. The one
    // sender's requests are its attempts: on a loaded machine an attempt can time out and be
    // retried (call control's bounded retry), and its record counts both.
    const records = await schema.query<{ call_id: string; status: string; attempts: number }>(
      `SELECT call_id, status, coalesce((record -> 'openai' ->> 'attempts')::int, 0) AS attempts
       FROM ${schema.name}.calls`,
    );
    expect(records.map((r) => r.call_id).sort()).toEqual([...callIds.values()].sort());
    expect(records.filter((r) => r.status === 'acting' || r.status === 'waiting')).toEqual([]);
    const requestsPerCall = new Map<string, number>();
    for (const request of fake.requests) {
      const id = request.control?.id;
      if (id) requestsPerCall.set(id, (requestsPerCall.get(id) ?? 0) + 1);
    }
    const actedTwice = records.filter(
      (r) => (requestsPerCall.get(r.call_id) ?? 0) > Math.max(1, r.attempts),
    );
    expect(actedTwice).toEqual([]);
    for (const record of records) {
      if (record.status === 'completed')
        expect(requestsPerCall.get(record.call_id)).toBe(record.attempts);
    }
  });
});
