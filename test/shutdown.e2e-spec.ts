import Database from 'better-sqlite3';
import { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeOpenAI } from './support/fake-openai';
import { sampleEvent } from './support/sample-events';
import { deliverTo, ringingCall, startService } from './support/service-process';
import { signDelivery, TEST_SECRET } from './support/signing';

describe('the service under SIGTERM', () => {
  let dataDir: string;
  let fake: FakeOpenAI;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-shutdown-'));
    fake = await FakeOpenAI.start();
  });
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const env = () => ({
    OPENAI_WEBHOOK_SECRET: TEST_SECRET,
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    NODE_ENV: 'production',
    ADMIN_TOKEN: 'tok',
  });

  it('drains: every acknowledged event is stored, and the process ends by itself', async () => {
    const service = await startService(env());
    children.push(service.child);
    const acknowledged = new Set<string>();
    let sent = 0;
    let stop = false;
    const worker = async () => {
      while (!stop && sent < 2000) {
        sent += 1;
        const delivery = signDelivery(JSON.stringify(sampleEvent('response.completed')));
        const status = await deliverTo(service.port, delivery);
        if (status === 200) acknowledged.add(delivery.headers['webhook-id']);
        if (status === 'refused') stop = true;
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, worker));
    const deadline = Date.now() + 15_000;
    while (acknowledged.size < 100) {
      if (Date.now() > deadline || stop)
        throw new Error(`only ${acknowledged.size} deliveries acknowledged:\n${service.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    service.child.kill('SIGTERM');
    const exit = await service.exited;
    stop = true;
    await load;
    expect(exit).toEqual({ code: 0, signal: null });

    const db = new Database(join(dataDir, 'switchboard.db'), { readonly: true });
    const stored = new Set(
      (db.prepare('SELECT webhook_id FROM events').all() as { webhook_id: string }[]).map(
        (r) => r.webhook_id,
      ),
    );
    const open = db
      .prepare(`SELECT count(*) AS n FROM handler_runs WHERE status <> 'done'`)
      .get() as { n: number };
    db.close();
    for (const id of acknowledged) expect(stored).toContain(id);
    expect(open.n).toBe(0); // handlers in flight were finished, not abandoned
  }, 40_000);

  it("lets a call in flight finish and record OpenAI's answer before the stores close", async () => {
    const service = await startService({
      ...env(),
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.baseURL,
    });
    children.push(service.child);
    fake.reply({ status: 200, delayMs: 400 });
    const delivery = ringingCall('rtc_draining');
    expect(await deliverTo(service.port, delivery)).toBe(200);
    await fake.waitForRequests(1);
    service.child.kill('SIGTERM');
    expect(await service.exited).toEqual({ code: 0, signal: null });
    const db = new Database(join(dataDir, 'calls.db'), { readonly: true });
    const row = db
      .prepare(`SELECT status, record FROM calls WHERE call_id = 'rtc_draining'`)
      .get() as { status: string; record: string };
    db.close();
    expect(row.status).toBe('completed');
    expect(JSON.parse(row.record).openai).toMatchObject({ ok: true, status: 200 });
  }, 30_000);

  it('exits at once on a second SIGTERM while the first is still draining', async () => {
    const service = await startService({
      ...env(),
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.baseURL,
    });
    children.push(service.child);
    fake.reply('hang', 'hang', 'hang'); // the call handler waits on OpenAI: the drain takes seconds
    const delivery = ringingCall('rtc_slow');
    expect(await deliverTo(service.port, delivery)).toBe(200);
    await fake.waitForRequests(1);
    service.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(service.child.exitCode).toBeNull(); // still draining
    const second = Date.now();
    service.child.kill('SIGTERM');
    await service.exited;
    expect(Date.now() - second).toBeLessThan(1000);
  }, 30_000);

  it('logs one JSON object per line with request ids and webhook ids, never a header or token, and redacts LOG_REDACT fields', async () => {
    const service = await startService({ ...env(), LOG_REDACT: 'event_id' });
    children.push(service.child);
    const body = sampleEvent('batch.completed');
    const delivery = signDelivery(JSON.stringify(body));
    const response = await fetch(`http://127.0.0.1:${service.port}/webhooks/openai`, {
      method: 'POST',
      headers: { ...delivery.headers, 'X-Request-Id': 'req-abc-123' },
      body: delivery.body,
    });
    expect(response.headers.get('x-request-id')).toBe('req-abc-123');
    const admin = await fetch(`http://127.0.0.1:${service.port}/events?token=should-not-appear`, {
      headers: { Authorization: 'Bearer tok' },
    });
    const adminRequestId = admin.headers.get('x-request-id');
    expect(adminRequestId).toEqual(expect.any(String));
    service.child.kill('SIGTERM');
    expect(await service.exited).toEqual({ code: 0, signal: null });
    const lines = service
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.find((line) => line.msg === 'webhook accepted')).toMatchObject({
      request_id: 'req-abc-123',
      webhook_id: delivery.headers['webhook-id'],
      event_id: '[redacted]', // LOG_REDACT
      type: 'batch.completed',
      context: 'Webhooks',
    });
    expect(lines.find((line) => line.msg === 'request completed')).toMatchObject({
      req: { id: adminRequestId, method: 'GET', url: '/events?token=[redacted]' },
      res: { statusCode: 400 }, // ?token= is not a parameter of /events: refused, and still logged
    });
    for (const secret of [
      delivery.headers['webhook-signature'],
      TEST_SECRET,
      'Bearer tok',
      'should-not-appear',
    ]) {
      expect(service.output()).not.toContain(secret);
    }
  }, 30_000);
});
