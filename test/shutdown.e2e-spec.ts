import Database from 'better-sqlite3';
import { ChildProcess } from 'node:child_process';
import { Agent } from 'node:http';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeOpenAI } from './support/fake-openai';
import { sampleEvent } from './support/sample-events';
import { deliverTo, ringingCall, startService } from './support/service-process';
import { Answer, PartialRequest, postOn } from './support/raw-http';
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

  /** Waits (bounded) for a condition the test cannot otherwise be told about. */
  async function until(condition: () => boolean, what: string, output: () => string) {
    const deadline = Date.now() + 15_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${output()}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** True when nothing listens on the port any more. */
  function refusesConnections(port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        setTimeout(() => resolve(false), 10);
      });
      socket.once('error', () => resolve(true));
    });
  }

  /** Every webhook id the service lists, page by page, through its admin API. */
  async function listedWebhookIds(port: number): Promise<Set<string>> {
    const ids = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const query = cursor ? `?limit=500&cursor=${cursor}` : '?limit=500';
      const response = await fetch(`http://127.0.0.1:${port}/events${query}`, {
        headers: { Authorization: 'Bearer tok' },
      });
      const body = (await response.json()) as {
        events: { webhook_id: string }[];
        next_cursor?: string;
      };
      for (const event of body.events) ids.add(event.webhook_id);
      if (!body.next_cursor) return ids;
      cursor = body.next_cursor;
    }
    throw new Error('more than 100 pages of events');
  }

  it('drains under keep-alive load by itself: answers after SIGTERM carry Connection: close, exit 0, nothing acknowledged lost', async () => {
    // A bound far beyond what the drain needs: the exit must come from the drain completing.
    const service = await startService({ ...env(), SHUTDOWN_TIMEOUT_MS: '20000' });
    children.push(service.child);
    const { port } = service;
    // The drain has begun once the listener refuses new connections.
    let listenerClosed = false;
    const drainBegan = () => listenerClosed;

    // An idle keep-alive connection: one answer, then silence.
    const idle = await PartialRequest.open(
      port,
      'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
    );
    expect(await idle.answer()).toMatchObject({ status: 200 });
    // A delivery and a readiness probe still arriving when SIGTERM comes.
    const slowDelivery = signDelivery(JSON.stringify(sampleEvent('batch.completed')));
    const half = Math.floor(slowDelivery.body.length / 2);
    const headerLines = Object.entries({
      ...slowDelivery.headers,
      'content-length': String(Buffer.byteLength(slowDelivery.body)),
    })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    const slow = await PartialRequest.open(
      port,
      `POST /webhooks/openai HTTP/1.1\r\nHost: 127.0.0.1\r\n${headerLines}\r\n${slowDelivery.body.slice(0, half)}`,
    );
    const probe = await PartialRequest.open(port, 'GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n');

    // Keep-alive load: each client reuses one connection for as long as the server keeps it.
    const answers: (Answer & { webhookId: string; sentAfterDrainBegan: boolean })[] = [];
    let stop = false;
    const client = async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        while (!stop && answers.length < 20_000) {
          const delivery = signDelivery(JSON.stringify(sampleEvent('response.completed')));
          const sentAfterDrainBegan = drainBegan();
          const answer = await postOn(agent, port, delivery);
          answers.push({
            ...answer,
            webhookId: delivery.headers['webhook-id'],
            sentAfterDrainBegan,
          });
          if (answer.status === 'failed' && drainBegan()) return; // the server is gone
        }
      } finally {
        agent.destroy();
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, client));
    await until(
      () => answers.filter((a) => a.status === 200).length >= 100,
      '100 acknowledgements',
      service.output,
    );

    service.child.kill('SIGTERM');
    for (let tries = 0; !listenerClosed; tries++) {
      if (tries > 1000) throw new Error(`the listener stayed open:\n${service.output()}`);
      listenerClosed = await refusesConnections(port);
    }
    // The idle connection is closed by the server while the drain waits for the slow request,
    // not left open until its keep-alive timeout.
    const idleClosed = await Promise.race([
      idle.closed.then(() => 'closed'),
      new Promise((resolve) => setTimeout(() => resolve('still open'), 10_000)),
    ]);
    const slowAnswer = await slow.finish(slowDelivery.body.slice(half));
    const probeAnswer = await probe.finish('\r\n');
    const exit = await service.exited;
    stop = true;
    await load;

    expect(exit).toEqual({ code: 0, signal: null });
    expect(service.output()).toMatch(/drain completed in \d+ ms/);
    expect(service.output()).not.toContain('SHUTDOWN_TIMEOUT_MS');
    // In flight at SIGTERM: answered, stored, and told that the connection closes.
    expect(slowAnswer).toMatchObject({ status: 200, connection: 'close' });
    expect(probeAnswer).toMatchObject({ status: 503, connection: 'close' });
    expect(JSON.parse(probeAnswer.body!).error.shutdown.message).toMatch(/^shutting down/);
    expect(idleClosed).toBe('closed');
    // Whatever the clients sent once the drain had begun was answered with Connection: close,
    // or not at all (the listener is closed, idle connections are closed).
    for (const answer of answers.filter((a) => a.sentAfterDrainBegan && a.status !== 'failed')) {
      expect(answer.connection).toBe('close');
    }

    const db = new Database(join(dataDir, 'switchboard.db'), { readonly: true });
    const open = db
      .prepare(`SELECT count(*) AS n FROM handler_runs WHERE status <> 'done'`)
      .get() as { n: number };
    db.close();
    expect(open.n).toBe(0); // handlers in flight were finished, not abandoned

    const restarted = await startService(env());
    children.push(restarted.child);
    const listed = await listedWebhookIds(restarted.port);
    const acknowledged = [
      slowDelivery.headers['webhook-id'],
      ...answers.filter((a) => a.status === 200).map((a) => a.webhookId),
    ];
    expect(acknowledged.filter((id) => !listed.has(id))).toEqual([]);
  }, 60_000);

  it('exits 1, saying that SHUTDOWN_TIMEOUT_MS fired, when a handler never finishes', async () => {
    const service = await startService({
      ...env(),
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.baseURL,
      SHUTDOWN_TIMEOUT_MS: '1000',
    });
    children.push(service.child);
    fake.reply('hang', 'hang', 'hang'); // the call handler waits on OpenAI for longer than the bound
    expect(await deliverTo(service.port, ringingCall('rtc_stuck'))).toBe(200);
    await fake.waitForRequests(1);
    service.child.kill('SIGTERM');
    expect(await service.exited).toEqual({ code: 1, signal: null });
    expect(service.output()).toContain(
      'switchboard: SHUTDOWN_TIMEOUT_MS (1000 ms) fired before the drain completed; exiting with code 1',
    );
    expect(service.output()).not.toContain('drain completed in');
  }, 30_000);

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
