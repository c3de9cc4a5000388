import { Module } from '@nestjs/common';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CallsModule } from '../src/calls/calls.module';
import { callRecord } from '../src/calls/store/call-store.contract';
import { SqliteCallStore } from '../src/calls/store/sqlite-call-store';
import { FakeOpenAI } from './support/fake-openai';
import { FakeSidebandConnection, liveEvents, realtimeEvents } from './support/fake-sideband';
import { createTestSchema, describeWithPostgres, TestSchema } from './support/postgres';
import { deliverTo, ringingCall, ServiceProcess, startService } from './support/service-process';
import { TEST_SECRET } from './support/signing';
import { createTestApp, eventually, TestApp } from './support/test-app';

const TOKEN = 'adoption-admin-token';
/** Short, so that a test waits little for a dead owner's lease to run out. */
const LEASE_MS = 1000;
const GREETING = 'Thank you for calling Example Corp. How can I help?';

const RULES = {
  rules: [
    {
      id: 'support',
      when: { field: 'called.number', equals: '+18005550100' },
      action: {
        accept: {
          model: 'gpt-realtime',
          instructions: 'You are a support agent.',
          greeting: GREETING,
          transcripts: true,
        },
      },
    },
  ],
};

interface Record_ {
  status: string;
  sideband: { state: string; owner: string; reconnects: number; adopted_from?: string };
  tool_calls?: { tool_call_id: string; outcome: string }[];
  transcript?: { speaker: string; text: string }[];
  ended?: { reason: string; inferred: boolean };
}

async function record(service: ServiceProcess, callId: string): Promise<Record_> {
  const response = await fetch(`http://127.0.0.1:${service.port}/calls/${callId}`, {
    headers: { Authorization: `Bearer ${TOKEN}` },
  });
  return (await response.json()) as Record_;
}

const greetings = (connection: FakeSidebandConnection) =>
  connection.received.filter((event) => event.type === 'response.create' && event.response);

/**
 * A call answered with a sideband, then a kill -9 of the instance holding it: the call goes on
 * at OpenAI, so its sideband must be reopened by whoever is left, once, without greeting the
 * caller again or running a tool call twice.
 */
async function answerAndKill(fake: FakeOpenAI, owner: ServiceProcess, callId: string) {
  expect(await deliverTo(owner.port, ringingCall(callId))).toBe(200);
  const first = await fake.sidebands.connection(callId, 1, 10_000);
  await first.waitFor((event) => event.type === 'response.create');
  // A function call answered before the crash (this app has no such tool: the model is told).
  first.send(realtimeEvents.functionCall('fc_1', 'lookup_order', { order: '1' }));
  await first.waitFor((event) => event.item?.type === 'function_call_output');
  first.send(realtimeEvents.callerSaid('Where is my order?'));
  await eventually(async () => {
    const now = await record(owner, callId);
    expect(now.sideband.state).toBe('open');
    expect(now.tool_calls).toEqual([expect.objectContaining({ outcome: 'unknown_tool' })]);
    expect(now.transcript).toEqual([expect.objectContaining({ speaker: 'caller' })]);
  }, 10_000);
  const before = (await record(owner, callId)).sideband.owner;
  owner.child.kill('SIGKILL');
  await owner.exited;
  return { first, before };
}

/** After adoption: the same function call again is not run again; then the caller hangs up. */
async function talkThenHangUp(fake: FakeOpenAI, callId: string) {
  const second = await fake.sidebands.connection(callId, 2, 15_000);
  second.send(realtimeEvents.functionCall('fc_1', 'lookup_order', { order: '1' }));
  second.send(realtimeEvents.callerSaid('Thanks, bye.'));
  return second;
}

function expectAdopted(after: Record_, before: string) {
  expect(after.ended).toMatchObject({ reason: 'caller_hung_up', inferred: true });
  expect(after.sideband).toMatchObject({ state: 'closed', adopted_from: before, reconnects: 1 });
  expect(after.sideband.owner).not.toBe(before);
  // Run once: the repeat of fc_1 after the adoption found it recorded.
  expect(after.tool_calls).toHaveLength(1);
  expect(after.transcript?.map((turn) => turn.text)).toEqual([
    'Where is my order?',
    'Thanks, bye.',
  ]);
}

describe('a sideband whose owner was killed is adopted (one instance, SQLite: a restart)', () => {
  let fake: FakeOpenAI;
  let dataDir: string;
  const services: ServiceProcess[] = [];

  beforeAll(async () => {
    fake = await FakeOpenAI.start();
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-adoption-'));
    writeFileSync(join(dataDir, 'rules.yaml'), stringify(RULES));
  });
  afterAll(async () => {
    for (const service of services) service.child.kill('SIGKILL');
    await Promise.all(services.map((service) => service.exited));
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reopens the sideband after the restart, greets no one twice, and records the end and the adoption', async () => {
    const env = {
      OPENAI_WEBHOOK_SECRET: TEST_SECRET,
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.baseURL,
      ADMIN_TOKEN: TOKEN,
      DATA_DIR: dataDir,
      RULES_FILE: join(dataDir, 'rules.yaml'),
      PORT: '0',
      HOST: '127.0.0.1',
      NODE_ENV: 'production',
      SIDEBAND_LEASE_MS: String(LEASE_MS),
    };
    const owner = await startService(env);
    services.push(owner);
    const { first, before } = await answerAndKill(fake, owner, 'rtc_adopt_restart');

    const restarted = await startService(env);
    services.push(restarted);
    const second = await talkThenHangUp(fake, 'rtc_adopt_restart');
    await eventually(async () => {
      expect((await record(restarted, 'rtc_adopt_restart')).transcript).toHaveLength(2);
    }, 10_000);
    fake.sidebands.hangUp('rtc_adopt_restart');
    await eventually(async () => {
      expect((await record(restarted, 'rtc_adopt_restart')).ended).toBeDefined();
    }, 10_000);
    expectAdopted(await record(restarted, 'rtc_adopt_restart'), before);
    expect(greetings(first)).toHaveLength(1);
    expect(greetings(second)).toHaveLength(0);
    expect(second.received.filter((e) => e.item?.type === 'function_call_output')).toEqual([]);
    expect(fake.sidebands.of('rtc_adopt_restart')).toHaveLength(2);
  }, 60_000);

  it('on a graceful shutdown lets go at once: the next instance adopts without waiting out the lease', async () => {
    const env = {
      OPENAI_WEBHOOK_SECRET: TEST_SECRET,
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.baseURL,
      ADMIN_TOKEN: TOKEN,
      DATA_DIR: dataDir,
      RULES_FILE: join(dataDir, 'rules.yaml'),
      PORT: '0',
      HOST: '127.0.0.1',
      NODE_ENV: 'production',
      // Far longer than the test waits: only letting go can explain an adoption.
      SIDEBAND_LEASE_MS: '600000',
    };
    const owner = await startService(env);
    services.push(owner);
    expect(await deliverTo(owner.port, ringingCall('rtc_adopt_drain'))).toBe(200);
    const first = await fake.sidebands.connection('rtc_adopt_drain', 1, 10_000);
    await first.waitFor((event) => event.type === 'response.create');
    owner.child.kill('SIGTERM');
    expect(await owner.exited).toMatchObject({ code: 0 });
    const next = await startService(env);
    services.push(next);
    const second = await fake.sidebands.connection('rtc_adopt_drain', 2, 15_000);
    fake.sidebands.hangUp('rtc_adopt_drain');
    await eventually(async () => {
      const after = await record(next, 'rtc_adopt_drain');
      expect(after.ended).toMatchObject({ reason: 'caller_hung_up' });
      expect(after.sideband).toMatchObject({ adopted_from: expect.any(String), reconnects: 1 });
    }, 10_000);
    expect(greetings(second)).toHaveLength(0);
  }, 60_000);
});

describeWithPostgres(
  'a sideband whose owner was killed is adopted (two instances, PostgreSQL)',
  () => {
    let schema: TestSchema;
    let fake: FakeOpenAI;
    let dataDir: string;
    const services: ServiceProcess[] = [];

    beforeAll(async () => {
      schema = await createTestSchema('adoption_e2e');
      fake = await FakeOpenAI.start();
      dataDir = mkdtempSync(join(tmpdir(), 'switchboard-adoption-pg-'));
      writeFileSync(join(dataDir, 'rules.yaml'), stringify(RULES));
    });
    afterAll(async () => {
      for (const service of services) service.child.kill('SIGKILL');
      await Promise.all(services.map((service) => service.exited));
      await fake.stop();
      rmSync(dataDir, { recursive: true, force: true });
      await schema.drop();
    });

    it('the survivor adopts the dead owner’s call within the lease, with exactly one reconnect', async () => {
      const start = (name: string) =>
        startService({
          OPENAI_WEBHOOK_SECRET: TEST_SECRET,
          OPENAI_API_KEY: 'sk-test',
          OPENAI_BASE_URL: fake.baseURL,
          ADMIN_TOKEN: TOKEN,
          DATA_DIR: mkdtempSync(join(dataDir, `${name}-`)),
          RULES_FILE: join(dataDir, 'rules.yaml'),
          PORT: '0',
          HOST: '127.0.0.1',
          NODE_ENV: 'production',
          DATABASE_URL: schema.url,
          SIDEBAND_LEASE_MS: String(LEASE_MS),
        });
      const [owner, survivor] = await Promise.all([start('a'), start('b')]);
      services.push(owner, survivor);
      const { first, before } = await answerAndKill(fake, owner, 'rtc_adopt_pg');

      const second = await talkThenHangUp(fake, 'rtc_adopt_pg');
      await eventually(async () => {
        expect((await record(survivor, 'rtc_adopt_pg')).transcript).toHaveLength(2);
      }, 10_000);
      fake.sidebands.hangUp('rtc_adopt_pg');
      await eventually(async () => {
        expect((await record(survivor, 'rtc_adopt_pg')).ended).toBeDefined();
      }, 10_000);
      expectAdopted(await record(survivor, 'rtc_adopt_pg'), before);
      expect(greetings(first)).toHaveLength(1);
      expect(greetings(second)).toHaveLength(0);
      // Exactly one reconnect: the survivor's; no other instance opened it too.
      expect(fake.sidebands.of('rtc_adopt_pg')).toHaveLength(2);
    }, 60_000);
  },
);

/**
 * What a dead owner leaves behind, as the store holds it: a Live call answered with a greeting,
 * a function call still running when the owner died, and a lease that let go.
 */
describe('an adopted sideband does nothing twice (Live, in-process, a record left by a dead owner)', () => {
  let fake: FakeOpenAI;
  let dir: string;
  let store: SqliteCallStore;
  let t: TestApp | undefined;

  beforeEach(async () => {
    fake = await FakeOpenAI.start();
    dir = mkdtempSync(join(tmpdir(), 'switchboard-adoption-live-'));
    store = new SqliteCallStore(join(dir, 'calls.db'));
  });
  afterEach(async () => {
    await t?.close();
    await store.close();
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a function call that was running with "interrupted", runs it no more, greets no one, and records the end', async () => {
    const id = 'live_adopt_1';
    const left = callRecord('live', id);
    left.decision.action = {
      type: 'accept',
      session: { model: 'gpt-live-1' },
      greeting: 'Hello from Example Corp.',
      call_tools: ['lookup_order'],
    } as unknown as typeof left.decision.action;
    await store.claim(left, { surface: 'live', id }, left.surfaces.live!);
    await store.update(id, {
      status: 'completed',
      surface: 'live',
      answered_at: new Date().toISOString(),
      sideband: { state: 'open', owner: 'dead-host:1', reconnects: 0 },
      tool_calls: [
        {
          tool_call_id: 'fc_run',
          name: 'lookup_order',
          arguments: { order_id: 'A17' },
          outcome: 'running',
          started_at: new Date().toISOString(),
        },
      ],
    });
    expect(await store.holdSidebands!('dead-host:1/0', [id], 0)).toEqual([id]);

    @Module({
      imports: [
        CallsModule.forRoot({
          store,
          callControl: { apiKey: 'sk-test', baseURL: fake.baseURL },
          sideband: { leaseMs: 1000, reconnectBaseMs: 20 },
        }),
      ],
    })
    class App {}
    t = await createTestApp({ imports: [App], listen: true });

    const connection = await fake.sidebands.connection(id, 1, 10_000);
    const output = await connection.waitFor(
      (event) => event.type === 'response.item.create' && event.item?.call_id === 'fc_run',
    );
    expect(JSON.parse(output.item.output as string)).toMatchObject({ error: 'interrupted' });
    // The model sends it again: it is recorded already, and not run.
    connection.send(liveEvents.functionCall('fc_run', 'lookup_order', { order_id: 'A17' }));
    connection.send(liveEvents.closed('remote_hangup'));
    connection.close();
    let after: Record<string, unknown> = {};
    await eventually(async () => {
      after = (await store.get(id)) as unknown as Record<string, unknown>;
      expect(after.ended).toMatchObject({ reason: 'caller_hung_up', inferred: false });
    }, 10_000);
    expect(after.sideband).toMatchObject({
      state: 'closed',
      adopted_from: 'dead-host:1',
      reconnects: 1,
    });
    expect(after.tool_calls).toEqual([
      expect.objectContaining({ tool_call_id: 'fc_run', outcome: 'error' }),
    ]);
    expect(connection.received.filter((e) => e.type === 'session.instructions.append')).toEqual([]);
    expect(connection.received.filter((e) => e.type === 'response.item.create')).toHaveLength(1);
    // Ended: the lease is dropped, nothing for anyone to adopt.
    await eventually(async () => {
      expect(await store.adoptSidebands!('someone', 1000, 10)).toEqual([]);
      expect(await store.holdSidebands!('dead-host:1/0', [id], 0)).toEqual([id]);
    });
  }, 30_000);
});
