import Database from 'better-sqlite3';
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
import { signDelivery } from './support/signing';
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
        message: 'the event store does not take writes',
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
