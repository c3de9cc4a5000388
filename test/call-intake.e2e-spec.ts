import { Injectable, Module } from '@nestjs/common';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { stringify } from 'yaml';
import { CallsModule } from '../src/calls/calls.module';
import { SqliteCallStore } from '../src/calls/store/sqlite-call-store';
import { OnWebhookEvent } from '../src/webhooks/handlers/on-webhook-event.decorator';
import { FakeOpenAI } from './support/fake-openai';
import { sampleEvent } from './support/sample-events';
import { signDelivery } from './support/signing';
import { createTestApp, eventually, TestApp } from './support/test-app';

const TOKEN = 'intake-admin-token';

/** Gold accounts are accepted; everything else falls to the default (a 404 reject). */
const RULES = {
  version: 1,
  settings: { default_country: 'US', timezone: 'UTC' },
  rules: [
    {
      id: 'gold',
      when: { header: 'x-account-tier', equals: 'gold' },
      action: {
        accept: {
          model: 'gpt-realtime',
          instructions: 'Tier {{headers.x-account-tier | oneof: gold, platinum}}.',
        },
      },
    },
  ],
  default: { reject: { status_code: 404 } },
};

const FROM = { name: 'From', value: '<sip:+14155550123@pbx.example.com>;tag=1' };
const TO = { name: 'To', value: '<sip:+18005550100@sip.api.openai.com>' };
const GOLD = { name: 'X-Account-Tier', value: 'gold' };

@Injectable()
class RoutedWatcher {
  readonly routed: { data: Record<string, unknown> }[] = [];

  @OnWebhookEvent('call.routed')
  follow(event: { data: Record<string, unknown> }): void {
    this.routed.push(event);
  }
}

@Module({ providers: [RoutedWatcher] })
class WatcherModule {}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe('call intake: a signed ringing call with odd data is acknowledged and decided', () => {
  let fake: FakeOpenAI;
  let t: TestApp;
  let dir: string;

  beforeEach(async () => {
    fake = await FakeOpenAI.start();
    dir = mkdtempSync(join(tmpdir(), 'switchboard-intake-'));
    const rulesFile = join(dir, 'rules.yaml');
    writeFileSync(rulesFile, stringify(RULES));
    t = await createTestApp({
      options: { adminToken: TOKEN },
      imports: [
        WatcherModule,
        CallsModule.forRoot({
          store: new SqliteCallStore(':memory:'),
          rulesFile,
          callControl: {
            apiKey: 'sk-test',
            baseURL: fake.baseURL,
            attemptTimeoutMs: 500,
            retryBaseMs: 10,
          },
        }),
      ],
    });
  });
  afterEach(async () => {
    await t?.close();
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const admin = (path: string) =>
    request(t.app.getHttpServer()).get(path).set('Authorization', `Bearer ${TOKEN}`);

  let calls = 0;
  /** Rings once with this `data` (call_id added unless given) and returns what was sent. */
  async function ring(data: Record<string, unknown>, overrides: Record<string, unknown> = {}) {
    const callId = `rtc_intake_${++calls}`;
    const event = sampleEvent('realtime.call.incoming', {
      data: { call_id: callId, ...data },
      ...overrides,
    });
    const response = await t.deliver(signDelivery(JSON.stringify(event))).expect(200);
    return { callId, event, response };
  }

  /** Exactly one call-control request reaches OpenAI for this call, and it is this action. */
  async function decidedOnce(callId: string, action: 'accept' | 'reject') {
    await fake.waitForRequests(1);
    let record: Json;
    await eventually(async () => {
      record = (await admin(`/calls/${callId}`).expect(200)).body;
      expect(record.status).toBe('completed');
    });
    // Every handler of the call's event has finished: any second request would have been sent.
    await eventually(async () => {
      const { handlers } = (await admin(`/events/${record.event_id}`).expect(200)).body;
      expect(handlers.map((h: Json) => h.status)).toEqual(handlers.map(() => 'done'));
    });
    expect(fake.requests.map((r) => r.path)).toEqual([`/v1/realtime/calls/${callId}/${action}`]);
    return record;
  }

  const filler = (count: number) =>
    Array.from({ length: count }, (_, i) => ({ name: `X-Filler-${i}`, value: `f${i}` }));

  it.each<[string, unknown, 'accept' | 'reject', Json]>([
    [
      'a 64 KiB header value',
      [FROM, TO, { name: 'X-Note', value: 'n'.repeat(64 * 1024) }, GOLD],
      'accept',
      { kept: 4, dropped: 0, truncated: [{ name: 'X-Note', length: 64 * 1024 }] },
    ],
    [
      'a header object without a value',
      [FROM, TO, { name: 'X-Missing' }, GOLD],
      'accept',
      { received: 4, kept: 3, dropped: 1, dropped_because: { value_missing: 1 } },
    ],
    [
      '300 headers',
      [FROM, TO, GOLD, ...filler(297)],
      'accept',
      { received: 300, kept: 256, dropped: 44, dropped_because: { over_limit: 44 } },
    ],
    [
      'null, number, string and array entries',
      [null, 5, 'From: <sip:1@x>', ['To', 'x'], FROM, GOLD],
      'accept',
      { received: 6, kept: 2, dropped: 4, dropped_because: { not_an_object: 4 } },
    ],
    [
      'numbers and booleans where text belongs',
      [FROM, { name: 'Max-Forwards', value: 70 }, { name: 'X-Verified', value: true }, GOLD],
      'accept',
      { kept: 4, dropped: 0, converted: 2 },
    ],
    [
      'names that are missing, empty, numbers, huge or not SIP tokens',
      [
        { value: 'no name' },
        { name: '', value: 'empty' },
        { name: '   ', value: 'blank' },
        { name: 'n'.repeat(500), value: 'long' },
        { name: 'X Bad:Name\r\n', value: 'spaces' },
        { name: 'X-\u0000', value: 'control' },
        { name: 'X-Ünicode', value: 'accent' },
        { name: { a: 1 }, value: 'object' },
        FROM,
        GOLD,
      ],
      'accept',
      {
        received: 10,
        kept: 2,
        dropped: 8,
        dropped_because: { name_missing: 3, name_too_long: 1, name_invalid: 4 },
      },
    ],
    [
      'values that are objects, arrays or null',
      [
        FROM,
        { name: 'X-A', value: { b: 1 } },
        { name: 'X-B', value: [1] },
        { name: 'X-C', value: null },
        GOLD,
      ],
      'accept',
      { kept: 2, dropped: 3, dropped_because: { value_not_text: 2, value_missing: 1 } },
    ],
    [
      'sip_headers as a string',
      'From: <sip:+14155550123@pbx.example.com>',
      'reject',
      { received: 0, kept: 0, problem: expect.stringContaining('not a list') },
    ],
    [
      'sip_headers as an object',
      { From: 'x', 'X-Account-Tier': 'gold' },
      'reject',
      { received: 0, kept: 0, problem: expect.stringContaining('not a list') },
    ],
    ['sip_headers null', null, 'reject', { kept: 0, problem: expect.stringContaining('null') }],
  ])('%s: 200, one decision, and the cut recorded', async (_case, sipHeaders, action, cut) => {
    const { callId, event } = await ring({ sip_headers: sipHeaders });
    const record = await decidedOnce(callId, action);
    expect(record.adjustments.sip_headers).toMatchObject(cut);
    expect(record.sip_headers.length).toBeLessThanOrEqual(256);
    for (const header of record.sip_headers) {
      expect(header).toEqual({ name: expect.any(String), value: expect.any(String) });
      expect(header.value.length).toBeLessThanOrEqual(8192);
    }

    // The call.routed note says the same, and the stored event is the body as it arrived.
    const watcher = t.app.get(RoutedWatcher);
    await eventually(() => expect(watcher.routed).toHaveLength(1));
    expect(watcher.routed[0].data).toMatchObject({
      call_id: callId,
      adjustments: { sip_headers: cut },
    });
    const stored = (await admin(`/events/${event.id}`).expect(200)).body;
    expect(stored.payload).toEqual(event);
  });

  it('a sip_headers key missing altogether: decided by the rules as a call without headers', async () => {
    const { callId } = await ring({});
    const record = await decidedOnce(callId, 'reject');
    expect(record.adjustments.sip_headers).toMatchObject({
      received: 0,
      problem: expect.stringContaining('missing'),
    });
  });

  it('control characters in a value are stripped before the rules see it, and nothing is noted', async () => {
    const { callId } = await ring({
      sip_headers: [FROM, { name: 'X-Account-Tier', value: `gold${'\u0000'.repeat(3)}` }],
    });
    const record = await decidedOnce(callId, 'accept');
    expect(fake.requests[0].body).toMatchObject({ instructions: 'Tier gold.' });
    expect(record.adjustments).toBeUndefined();
  });

  it('repeated header names are all kept (SIP allows them) and nothing is noted', async () => {
    const diversions = Array.from({ length: 40 }, (_, i) => ({
      name: 'Diversion',
      value: `<tel:+1415555${String(i).padStart(4, '0')}>;reason=unconditional`,
    }));
    const { callId } = await ring({ sip_headers: [FROM, TO, ...diversions, GOLD] });
    const record = await decidedOnce(callId, 'accept');
    expect(record.sip_headers).toHaveLength(43);
    expect(record.adjustments).toBeUndefined();
  });

  it('an extra field nested 5,000 levels deep is still decided, and stored as it arrived', async () => {
    // JSON.parse reads any depth; a recursive walk of it overflows the stack (it was a 400).
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const callId = `rtc_intake_deep_${++calls}`;
    const body = JSON.stringify(
      sampleEvent('realtime.call.incoming', {
        data: { call_id: callId, sip_headers: [FROM, GOLD], extra: 'DEEP' },
      }),
    ).replace('"DEEP"', deep);
    const response = await t.deliver(signDelivery(body)).expect(200);
    expect(response.body).toMatchObject({ received: true, duplicate: false });
    const record = await decidedOnce(callId, 'accept');
    // Compared as text: the test's own JSON.stringify would overflow on it too.
    const stored = await admin(`/events/${record.event_id}`)
      .buffer(true)
      .parse((res, done) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => done(null, text));
      });
    expect(stored.status).toBe(200);
    expect(stored.body as unknown as string).toContain(`"extra":${deep}`);
  });

  it('an event of an unknown type nested 5,000 levels deep is stored and acknowledged', async () => {
    const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    const body = `{"id":"evt_deep_unknown","object":"event","created_at":${Math.floor(Date.now() / 1000)},"type":"x.future","data":${deep}}`;
    const response = await t.deliver(signDelivery(body)).expect(200);
    expect(response.body).toMatchObject({ received: true, duplicate: false, type: 'x.future' });
  });

  it('an envelope without created_at or id is still decided; the replacement is noted', async () => {
    const { callId } = await ring(
      { sip_headers: [FROM, GOLD] },
      { id: undefined, created_at: 'yesterday' },
    );
    const record = await decidedOnce(callId, 'accept');
    expect(record.event_id).toMatch(/^wh_/);
    expect(record.adjustments.replaced.map((r: Json) => r.path).sort()).toEqual([
      'created_at',
      'id',
    ]);
  });

  it.each<[string, Record<string, unknown> | undefined, string]>([
    ['no call_id', { sip_headers: [FROM] }, 'data.call_id'],
    ['an empty call_id', { call_id: '', sip_headers: [FROM] }, 'data.call_id'],
    ['a numeric call_id', { call_id: 12345, sip_headers: [FROM] }, 'data.call_id'],
    ['a call_id with spaces', { call_id: 'rtc 1', sip_headers: [FROM] }, 'data.call_id'],
    ['a call_id that is a path segment', { call_id: '..', sip_headers: [FROM] }, 'data.call_id'],
    ['a call_id of 10,000 characters', { call_id: 'r'.repeat(10_000) }, 'data.call_id'],
    ['no data at all', undefined, 'data'],
  ])('%s: 400 naming the path, nothing stored, nothing sent', async (_case, data, path) => {
    const event = { ...sampleEvent('realtime.call.incoming'), data };
    const response = await t.deliver(signDelivery(JSON.stringify(event))).expect(400);
    expect(response.body.message).toContain(path);
    expect(response.body.errors.map((e: Json) => e.path)).toContain(path);
    await admin(`/events/${event.id}`).expect(404);
    // A good call after it is decided and answered; nothing was sent for the refused one.
    const { callId } = await ring({ sip_headers: [FROM, TO, GOLD] });
    await decidedOnce(callId, 'accept');
  });
});
