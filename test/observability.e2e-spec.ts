import Database from 'better-sqlite3';
import { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { CallsModule } from '../src/calls/calls.module';
import { SqliteCallStore } from '../src/calls/store/sqlite-call-store';
import { setUpApiDocs } from '../src/docs/api-docs';
import { HealthModule } from '../src/health/health.module';
import { MetricsModule } from '../src/metrics/metrics.module';
import { sampleEvent } from './support/sample-events';
import { canMount, damageMiddlePages, fillUp, smallDisk } from './support/file-system-faults';
import { startService } from './support/service-process';
import { signDelivery, TEST_SECRET } from './support/signing';
import { createTestApp, eventually, TestApp } from './support/test-app';

describe('health, readiness, metrics and API docs', () => {
  let t: TestApp;
  let dir: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-ops-'));
    t = await createTestApp({
      beforeInit: setUpApiDocs,
      storeFile: join(dir, 'switchboard.db'),
      options: { adminToken: 'ops-admin' },
      imports: [
        MetricsModule.forRoot({ token: 'scrape-token' }),
        HealthModule,
        CallsModule.forRoot({
          store: new SqliteCallStore(':memory:'),
          seedRulesFile: join(__dirname, '..', 'rules', 'example.yaml'),
        }),
      ],
    });
  });
  afterEach(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const http = () => request(t.app.getHttpServer());
  const scrape = async () =>
    (await http().get('/metrics').set('Authorization', 'Bearer scrape-token').expect(200)).text;
  const metric = (text: string, line: string) =>
    Number(new RegExp(`^${line.replace(/[{}."=]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);

  it('answers liveness and readiness without auth or configuration', async () => {
    const live = await http().get('/healthz').expect(200);
    expect(live.body).toEqual({ status: 'ok', info: {}, error: {}, details: {} });
    const ready = await http().get('/readyz').expect(200);
    expect(ready.body.details).toEqual({ store: { status: 'up' }, rules: { status: 'up' } });
    expect(JSON.stringify(ready.body)).not.toMatch(/whsec_|ops-admin|switchboard\.db/);
  });

  it('is not ready while the store cannot take writes, and ready again after', async () => {
    const other = new Database(join(dir, 'switchboard.db'));
    other.exec('BEGIN IMMEDIATE'); // another process holds the write lock
    try {
      const response = await http().get('/readyz').expect(503);
      expect(response.body.details.store).toEqual({
        status: 'down',
        message: 'the event store does not take writes: database is locked (SQLITE_BUSY)',
      });
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    await http().get('/readyz').expect(200);
  });

  it('counts webhooks by type and outcome, verification failures, handlers and routing decisions', async () => {
    const before = await scrape();
    const accepted =
      'switchboard_webhooks_received_total{type="realtime.call.incoming",outcome="accepted"}';
    const call = signDelivery(
      JSON.stringify(
        sampleEvent('realtime.call.incoming', {
          data: { call_id: 'rtc_m', sip_headers: [{ name: 'To', value: '<sip:+18005550100@x>' }] },
        }),
      ),
    );
    await t.deliver(call).expect(200);
    await t.deliver(call).expect(200);
    await t.deliver({ ...call, body: call.body.replace('rtc_m', 'rtc_x') }).expect(401);
    await t.deliver(signDelivery('{"type":"batch.completed"}')).expect(400);
    await t
      .deliver(signDelivery(JSON.stringify({ padding: 'x'.repeat(1024 * 1024 + 1) })))
      .expect(413);
    await eventually(async () => {
      const after = await scrape();
      expect(metric(after, accepted) - metric(before, accepted)).toBe(1);
      expect(
        metric(
          after,
          'switchboard_webhooks_received_total{type="realtime.call.incoming",outcome="duplicate"}',
        ),
      ).toBe(1);
      expect(
        metric(after, 'switchboard_webhooks_received_total{type="unverified",outcome="refused"}'),
      ).toBe(1);
      expect(
        metric(
          after,
          'switchboard_webhook_verification_failures_total{reason="signature_mismatch"}',
        ),
      ).toBe(1);
      expect(
        metric(after, 'switchboard_webhooks_received_total{type="unparsed",outcome="invalid"}'),
      ).toBe(1);
      expect(
        metric(after, 'switchboard_webhooks_received_total{type="unread",outcome="too_large"}'),
      ).toBe(1);
      // No From: the caller is withheld, and the example rules decline such calls.
      expect(
        metric(after, 'switchboard_routing_decisions_total{rule="block-withheld",action="reject"}'),
      ).toBe(1);
      expect(
        metric(
          after,
          'switchboard_handler_duration_seconds_count{handler="CallsService.onIncomingCall",outcome="done"}',
        ),
      ).toBe(1);
    });
    expect(await scrape()).toMatch(/^switchboard_nodejs_eventloop_lag_seconds \S+$/m);
  });

  it('keeps /metrics behind its token when one is set', async () => {
    await http().get('/metrics').expect(401);
    await http().get('/metrics').set('Authorization', 'Bearer wrong').expect(401);
  });

  it('serves the OpenAPI document of the admin API, with its auth scheme, at /docs', async () => {
    const document = (await http().get('/docs/openapi.json').expect(200)).body;
    expect(document.components.securitySchemes['admin-token']).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/webhooks/openai',
        '/events',
        '/events/{id}/replay',
        '/rules',
        '/rules/evaluate',
        '/calls/{callId}/hangup',
        '/healthz',
        '/readyz',
      ]),
    );
    expect(document.paths['/rules/evaluate'].post.security).toEqual([{ 'admin-token': [] }]);
    expect(document.components.schemas.EvaluateRequestDto.required).toContain('sip_headers');
    expect((await http().get('/docs').expect(200)).text).toContain('swagger');
  });
});

/** The parts of the service's JSON answers these tests read. */
interface Answer {
  status: number;
  body: {
    message?: string;
    events?: { id: string }[];
    details?: Record<string, { status: string; message?: string }>;
  };
}

describe('readiness of the service (dist/main.js) when its store fails', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
  });

  const start = async (dataDir: string) => {
    const service = await startService({
      OPENAI_WEBHOOK_SECRET: TEST_SECRET,
      DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      NODE_ENV: 'production',
      ADMIN_TOKEN: 'tok',
    });
    children.push(service.child);
    const get = async (path: string): Promise<Answer> => {
      const response = await fetch(`http://127.0.0.1:${service.port}${path}`, {
        headers: { Authorization: 'Bearer tok' },
      });
      return { status: response.status, body: (await response.json()) as Answer['body'] };
    };
    const deliver = async (event: object): Promise<Answer> => {
      const delivery = signDelivery(JSON.stringify(event));
      const response = await fetch(`http://127.0.0.1:${service.port}/webhooks/openai`, {
        method: 'POST',
        headers: delivery.headers,
        body: delivery.body,
      });
      return { status: response.status, body: (await response.json()) as Answer['body'] };
    };
    return { service, get, deliver };
  };

  if (!canMount) {
    console.warn('skipped: the full-disk test needs permission to mount a small tmpfs (root)');
  }
  (canMount ? it : it.skip)(
    'on a full disk, deliveries get 503 naming it and /readyz is 503 until a write succeeds again, found by its own probe',
    async () => {
      const disk = smallDisk(4096)!;
      try {
        const { service, get, deliver } = await start(disk.dir);
        const kept = sampleEvent('batch.completed');
        expect((await deliver(kept)).status).toBe(200);
        expect((await get('/readyz')).status).toBe(200);

        const filler = fillUp(disk.dir);
        // A write or two may still fit where SQLite had already taken space; the disk is full.
        let refused: Answer | undefined;
        for (let attempt = 0; attempt < 20 && !refused; attempt++) {
          const answer = await deliver(sampleEvent('batch.completed'));
          if (answer.status !== 200) refused = answer;
        }
        expect(refused).toMatchObject({
          status: 503,
          body: {
            message: 'the event store does not take writes: database or disk is full (SQLITE_FULL)',
          },
        });
        const notReady = await get('/readyz');
        expect(notReady.status).toBe(503);
        expect(notReady.body.details?.store).toEqual({
          status: 'down',
          message: 'the event store does not take writes: database or disk is full (SQLITE_FULL)',
        });
        expect(JSON.stringify(notReady.body)).not.toContain(disk.dir);

        // Space comes back, and no traffic does (a load balancer stopped sending it): readiness
        // finds out with its own write.
        rmSync(filler);
        await eventually(async () => expect((await get('/readyz')).status).toBe(200), 10_000);
        expect((await deliver(sampleEvent('batch.completed'))).status).toBe(200);
        const listed = (await get('/events?limit=500')).body.events ?? [];
        expect(listed.map((event) => event.id)).toContain(kept.id);
        expect(service.output()).toContain('does not take writes: database or disk is full');
        expect(service.output()).toContain('takes writes again');
      } finally {
        for (const child of children.splice(0)) {
          child.kill('SIGKILL');
          await new Promise((resolve) => child.once('exit', resolve));
        }
        disk.release();
      }
    },
    60_000,
  );

  it('a store found corrupt while running answers 503 naming it, and /readyz stays 503 until a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-corrupt-'));
    try {
      const { service, get, deliver } = await start(dataDir);
      // About 5 MB of events, more than SQLite's page cache, so reads go to the file.
      const padding = 'x'.repeat(16 * 1024);
      const senders = Array.from({ length: 8 }, async () => {
        for (let i = 0; i < 40; i++) {
          const answer = await deliver(sampleEvent('test.bulk', { data: { padding } }));
          expect(answer.status).toBe(200);
        }
      });
      await Promise.all(senders);
      expect((await get('/readyz')).status).toBe(200);

      // Damage pages in the middle of the file (after moving the WAL into it), then commit
      // from another connection, as another process would: the service rereads the file.
      const file = join(dataDir, 'switchboard.db');
      const other = new Database(file);
      other.pragma('wal_checkpoint(TRUNCATE)');
      damageMiddlePages(file, 64);
      other.pragma('user_version = 1');
      other.close();

      const listing = await get('/events?limit=500');
      expect(listing).toEqual({
        status: 503,
        body: {
          statusCode: 503,
          error: 'Service Unavailable',
          message: 'the event store is corrupt: database disk image is malformed (SQLITE_CORRUPT)',
        },
      });
      const notReady = await get('/readyz');
      expect(notReady.status).toBe(503);
      expect(notReady.body.details?.store.message).toBe(
        'the event store is corrupt: database disk image is malformed (SQLITE_CORRUPT)',
      );
      // A write that still works does not make a damaged file healthy.
      await deliver(sampleEvent('batch.completed'));
      expect((await get('/readyz')).status).toBe(503);
      expect(service.output()).toContain(`the event store ${file} is corrupt`);
    } finally {
      for (const child of children.splice(0)) {
        child.kill('SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
