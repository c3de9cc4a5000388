import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeOpenAI } from './support/fake-openai';
import { createTestSchema, describeWithPostgres, TestSchema } from './support/postgres';
import { deliverTo, ServiceProcess, startService } from './support/service-process';
import { TEST_SECRET } from './support/signing';
import { eventually } from './support/test-app';
import { liveAnnouncement, physicalCall, realtimeAnnouncement } from './support/twin-calls';

const TOKEN = 'pg-calls-admin-token';
const TWIN_WAIT_MS = 5000;

/**
 * Two services (dist/main.js) on one PostgreSQL schema, as two replicas behind a load balancer:
 * calls and rules are shared, not kept in each instance's DATA_DIR.
 */
describeWithPostgres('calls and rules on PostgreSQL, across two instances', () => {
  let schema: TestSchema;
  let fake: FakeOpenAI;
  let a: ServiceProcess;
  let b: ServiceProcess;
  const dirs: string[] = [];

  const startInstance = () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-pg-calls-'));
    dirs.push(dataDir);
    return startService({
      NODE_ENV: 'production',
      OPENAI_WEBHOOK_SECRET: TEST_SECRET,
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.baseURL,
      ADMIN_TOKEN: TOKEN,
      DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: schema.url,
      // A long bound: a decision waiting for its twin must end when the twin is recorded by
      // the other instance, not when the bound runs out.
      TWIN_WAIT_MS: String(TWIN_WAIT_MS),
    });
  };
  const api = async (
    service: ServiceProcess,
    path: string,
    init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) => {
    const response = await fetch(`http://127.0.0.1:${service.port}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        Authorization: `Bearer ${TOKEN}`,
        ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...init.headers,
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    return {
      status: response.status,
      etag: response.headers.get('etag'),
      body: (await response.json()) as Record<string, unknown>,
    };
  };

  beforeAll(async () => {
    schema = await createTestSchema('calls_e2e');
    fake = await FakeOpenAI.start();
    // Both start at once on an empty schema: one migrates and seeds the rules.
    [a, b] = await Promise.all([startInstance(), startInstance()]);
  }, 40_000);
  afterAll(async () => {
    for (const service of [a, b]) service?.child.kill('SIGKILL');
    await Promise.all([a, b].map((service) => service?.exited));
    await fake.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await schema.drop();
  });

  it('keeps no calls.db: records are in the database, found through either instance by either id', async () => {
    const call = physicalCall();
    expect(await deliverTo(a.port, realtimeAnnouncement(call))).toBe(200);
    await eventually(async () => {
      const record = await api(b, `/calls/${call.realtimeId}`);
      expect(record.status).toBe(200);
      expect(record.body).toMatchObject({ call_id: call.realtimeId, status: 'completed' });
    }, 10_000);
    for (const dir of dirs) expect(existsSync(join(dir, 'calls.db'))).toBe(false);
  });

  it('acts once on each call whose twins reach different instances at the same moment', async () => {
    const calls = Array.from({ length: 12 }, () => physicalCall());
    const before = fake.requests.length;
    const answers = await Promise.all(
      calls.flatMap((call, i) => {
        const [first, second] = i % 2 ? [a, b] : [b, a];
        // Each twin at one instance, and OpenAI's retry of each at the other.
        const realtime = realtimeAnnouncement(call);
        const live = liveAnnouncement(call);
        return [
          deliverTo(first.port, realtime),
          deliverTo(second.port, live),
          deliverTo(second.port, realtime),
          deliverTo(first.port, live),
        ];
      }),
    );
    expect(answers).toEqual(answers.map(() => 200));
    const idsOf = new Map(
      calls.flatMap((call, i) => [
        [call.realtimeId, i],
        [call.liveId, i],
      ]),
    );
    await eventually(async () => {
      for (const call of calls) {
        const record = await api(a, `/calls/${call.liveId}`);
        expect(record.body).toMatchObject({ status: 'completed' });
        expect(Object.keys(record.body.surfaces as object).sort()).toEqual(['live', 'realtime']);
      }
    }, 15_000);
    const perCall = new Map<number, number>();
    for (const request of fake.requests.slice(before)) {
      const index = request.control ? idsOf.get(request.control.id) : undefined;
      if (index !== undefined) perCall.set(index, (perCall.get(index) ?? 0) + 1);
    }
    expect([...perCall.values()]).toEqual(calls.map(() => 1));
    expect(perCall.size).toBe(calls.length);
  }, 40_000);

  it('ends the wait for a twin when the other instance records it, not when the bound runs out', async () => {
    // The rules accept on Realtime: a call announced on Live first waits for its Realtime twin.
    const call = physicalCall();
    expect(await deliverTo(a.port, liveAnnouncement(call))).toBe(200);
    expect(await deliverTo(b.port, realtimeAnnouncement(call))).toBe(200);
    let record: Record<string, unknown> = {};
    await eventually(async () => {
      record = (await api(a, `/calls/${call.liveId}`)).body;
      expect(record).toMatchObject({ status: 'completed', surface: 'realtime' });
    }, 10_000);
    const waited = (record.timings as { waited_for_twin_ms: number }).waited_for_twin_ms;
    expect(waited).toBeLessThan(TWIN_WAIT_MS - 1000);
    expect(fake.requests.filter((r) => r.control?.id === call.realtimeId)).toHaveLength(1);
  }, 20_000);

  it('shows a rule edit made on one instance on the other, and holds If-Match across them', async () => {
    const first = await api(a, '/rules');
    expect(first.status).toBe(200);
    const rule = {
      id: 'pg-shared-edit',
      priority: 5,
      when: { field: 'called.number', equals: '+1 800 555 0199' },
      action: { reject: { status_code: 486 } },
    };
    const edited = await api(a, '/rules', {
      method: 'POST',
      body: rule,
      headers: { 'If-Match': first.etag! },
    });
    expect(edited.status).toBe(201);
    // B takes it at once from the database, even before its notice arrives...
    const evaluate = () =>
      api(b, '/rules/evaluate', {
        method: 'POST',
        body: {
          sip_headers: [
            { name: 'From', value: '<sip:+14155550123@pbx.example.com>' },
            { name: 'To', value: '<sip:+18005550199@sip.api.openai.com>' },
          ],
        },
      });
    await eventually(async () => expect((await evaluate()).body.rule).toBe('pg-shared-edit'));
    expect((await api(b, '/rules')).etag).toBe(edited.etag);

    // ...an edit on B against the version A replaced is refused (412), whatever B had loaded...
    const stale = await api(b, '/rules/pg-shared-edit', {
      method: 'DELETE',
      headers: { 'If-Match': first.etag! },
    });
    expect(stale.status).toBe(412);
    // ...and one against A's new version is made, and seen on A.
    const removed = await api(b, '/rules/pg-shared-edit', {
      method: 'DELETE',
      headers: { 'If-Match': edited.etag! },
    });
    expect(removed.status).toBe(200);
    await eventually(async () => expect((await api(a, '/rules')).etag).toBe(removed.etag));
    expect(removed.etag).toBe(first.etag); // the same rules again: the same version
  }, 20_000);
});
