import { Injectable, Module } from '@nestjs/common';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { stringify } from 'yaml';
import { CallsModule } from '../src/calls/calls.module';
import { CallControlOptions } from '../src/calls/control/call-control.client';
import { SqliteCallStore } from '../src/calls/store/sqlite-call-store';
import {
  OnWebhookEvent,
  WebhookHandlerOptions,
} from '../src/webhooks/handlers/on-webhook-event.decorator';
import { WebhookEventFor } from '../src/webhooks/handlers/webhook-event-pattern';
import { SqliteEventStore } from '../src/webhooks/store/sqlite-event-store';
import { FakeOpenAI } from './support/fake-openai';
import { withMeetingPoint } from './support/meeting-point-store';
import { sampleEvent } from './support/sample-events';
import { signDelivery } from './support/signing';
import { createTestApp, eventually, TestApp } from './support/test-app';

const TOKEN = 'calls-admin-token';
const MONDAY_10_NY = new Date('2026-11-23T15:00:00Z');

const RULES = {
  version: 1,
  settings: { default_country: 'US', timezone: 'America/New_York' },
  rules: [
    {
      id: 'withheld',
      priority: 10,
      when: { field: 'caller.withheld', equals: true },
      action: { reject: { status_code: 603 } },
    },
    {
      id: 'vip',
      priority: 20,
      when: {
        all: [
          { field: 'called.number', equals: '800-555-0100' },
          { header: 'x-account-tier', in: ['gold', 'platinum'] },
          { field: 'caller.display_name', regex: '^(?<first>\\w+)' },
        ],
      },
      action: {
        accept: {
          model: 'gpt-realtime',
          instructions:
            'Greet {{captures.first}}. The account tier is {{headers.x-account-tier | oneof: gold, platinum}}.',
          audio: { output: { voice: 'marin' } },
          tools: [{ type: 'function', name: 'lookup_account', parameters: { type: 'object' } }],
        },
      },
    },
    {
      id: 'office-hours',
      when: {
        all: [
          { field: 'called.number', equals: '+18005550100' },
          { time: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00' } },
        ],
      },
      action: { accept: { model: 'gpt-realtime-mini', instructions: 'Support.' } },
    },
    {
      id: 'forwarded',
      when: { field: 'diversion.user', regex: '^(?<ext>2\\d\\d)$' },
      action: {
        refer: {
          target_uri: 'sip:{{captures.ext}}@pbx.example.com',
          allowed_targets: ['sip:2??@pbx.example.com'],
        },
      },
    },
  ],
  default: { reject: { status_code: 404 } },
};

/** A user's module following every call, as the README shows. */
@Injectable()
class CallWatcher {
  readonly seen: WebhookEventFor<'call.*'>[] = [];

  @OnWebhookEvent('call.*')
  follow(event: WebhookEventFor<'call.*'>): void {
    this.seen.push(event);
  }
}

@Module({ providers: [CallWatcher] })
class WatcherModule {}

/** Whether OpenAI has been told the decision about the ringing call (set per test). */
let decisionSent: () => boolean = () => false;

/** A user's handlers of the ringing call itself, around and far below the calls module's own. */
@Injectable()
class RingingCallHandlers {
  readonly sawDecision: Record<string, boolean> = {};

  // `first` is not an option users are given: passed anyway, it is ignored.
  @OnWebhookEvent('realtime.call.incoming', {
    priority: -1000,
    first: true,
  } as WebhookHandlerOptions)
  atMinus1000(): void {
    this.sawDecision['-1000'] = decisionSent();
  }

  @OnWebhookEvent('realtime.call.incoming', { priority: -200 })
  atMinus200(): void {
    this.sawDecision['-200'] = decisionSent();
  }

  @OnWebhookEvent('realtime.call.incoming', { priority: -100 })
  atMinus100(): void {
    this.sawDecision['-100'] = decisionSent();
  }

  @OnWebhookEvent('realtime.call.incoming')
  atZero(): void {
    this.sawDecision['0'] = decisionSent();
  }
}

@Module({ providers: [RingingCallHandlers] })
class RingingCallModule {}

describe('calls: realtime.call.incoming routed by SIP headers, carried out through OpenAI', () => {
  let fake: FakeOpenAI;
  let t: TestApp;
  let dir: string;
  let clock: Date;
  let callStore: ReturnType<typeof withMeetingPoint>;

  async function start(
    options: {
      apiKey?: string | null;
      rules?: object;
      fromFile?: boolean;
      callControl?: CallControlOptions;
      /** Writes into the event store before the app starts, as an earlier process left it. */
      leftByEarlierProcess?: (store: SqliteEventStore) => Promise<void>;
    } = {},
  ) {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-calls-'));
    callStore = withMeetingPoint(new SqliteCallStore(':memory:'));
    const rulesFile = join(dir, 'rules.yaml');
    writeFileSync(rulesFile, stringify(options.rules ?? RULES));
    const storeFile = join(dir, 'switchboard.db');
    if (options.leftByEarlierProcess) {
      const earlier = new SqliteEventStore({ filename: storeFile });
      await options.leftByEarlierProcess(earlier);
      await earlier.close();
    }
    t = await createTestApp({
      options: { adminToken: TOKEN },
      storeFile,
      imports: [
        WatcherModule,
        RingingCallModule,
        CallsModule.forRoot({
          store: callStore.store,
          ...(options.fromFile === false ? { seedRulesFile: rulesFile } : { rulesFile }),
          now: () => clock,
          callControl: {
            apiKey: options.apiKey === null ? undefined : (options.apiKey ?? 'sk-test'),
            baseURL: fake.baseURL,
            attemptTimeoutMs: 300,
            retryBaseMs: 10,
            ...options.callControl,
          },
        }),
      ],
    });
    return rulesFile;
  }

  beforeEach(async () => {
    fake = await FakeOpenAI.start();
    clock = MONDAY_10_NY;
    decisionSent = () => fake.requests.some((r) => /\/(accept|reject|refer)$/.test(r.path));
  });
  afterEach(async () => {
    await t?.close();
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const admin = (method: 'get' | 'post' | 'put' | 'delete', path: string) =>
    request(t.app.getHttpServer())[method](path).set('Authorization', `Bearer ${TOKEN}`);

  async function ring(
    sipHeaders: { name: string; value: string }[],
    callId = `rtc_${Math.random().toString(16).slice(2)}`,
  ) {
    const body = sampleEvent('realtime.call.incoming', {
      data: { call_id: callId, sip_headers: sipHeaders },
    });
    await t.deliver(signDelivery(JSON.stringify(body))).expect(200);
    return { callId, body };
  }

  async function recordOf(callId: string, status: string) {
    let record: Record<string, unknown> = {};
    await eventually(async () => {
      record = (await admin('get', `/calls/${callId}`).expect(200)).body;
      expect(record.status).toBe(status);
    });
    return record as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  }

  it('accepts a VIP call with the rendered session: quoted display name, tel: URI, compact and lower-case names', async () => {
    await start();
    const { callId } = await ring([
      {
        name: 'f',
        value: '"Alice \\"Al\\" Smith" <sip:+14155550123@pbx.example.com;user=phone>;tag=9',
      },
      { name: 't', value: '<tel:1-800-555-0100>' },
      { name: 'x-account-tier', value: 'gold' },
      { name: 'i', value: 'a84b4c76e66710@pbx.example.com' },
    ]);
    const [sent] = await fake.waitForRequests(1);
    expect(sent).toMatchObject({
      method: 'POST',
      path: `/v1/realtime/calls/${callId}/accept`,
      authorization: 'Bearer sk-test',
    });
    expect(sent.body).toEqual({
      type: 'realtime',
      model: 'gpt-realtime',
      instructions: 'Greet [caller-supplied text: "Alice"]. The account tier is gold.',
      audio: { output: { voice: 'marin' } },
      tools: [{ type: 'function', name: 'lookup_account', parameters: { type: 'object' } }],
    });
    const record = await recordOf(callId, 'completed');
    expect(record.decision).toMatchObject({
      route: 'rule',
      rule: 'vip',
      captures: { first: 'Alice' },
    });
    expect(record.decision.explanation.rules_before).toEqual([]);
    expect(record.openai).toMatchObject({ ok: true, status: 200, attempts: 1 });
    expect(record.timings.answered_after_ms).toEqual(expect.any(Number));
    const watcher = t.app.get(CallWatcher);
    await eventually(() =>
      // And `call.answered`, once the sideband is open (tested with the sidebands).
      expect(watcher.seen.map((e) => e.type).filter((type) => type !== 'call.answered')).toEqual([
        'call.routed',
        'call.accepted',
      ]),
    );
    expect(watcher.seen[0].data).toMatchObject({ call_id: callId, rule: 'vip', route: 'rule' });
  });

  it('takes the caller from P-Asserted-Identity and declines a withheld number with 603', async () => {
    await start();
    const { callId } = await ring([
      { name: 'From', value: '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=1' },
      { name: 'To', value: '<sip:+18005550100@sip.api.openai.com>' },
    ]);
    const [sent] = await fake.waitForRequests(1);
    expect(sent).toMatchObject({
      path: `/v1/realtime/calls/${callId}/reject`,
      body: { status_code: 603 },
    });
    await recordOf(callId, 'completed');

    const second = await ring([
      { name: 'From', value: '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=1' },
      { name: 'P-Asserted-Identity', value: '<sip:+1 415 555 0123@carrier.example>' },
      { name: 'To', value: '<sip:+18005550100@sip.api.openai.com>' },
    ]);
    await fake.waitForRequests(2);
    expect(fake.requests[1]).toMatchObject({
      path: `/v1/realtime/calls/${second.callId}/accept`,
      body: { model: 'gpt-realtime-mini' },
    });
  });

  it('follows time windows on a fixed clock, and falls to the default route outside them', async () => {
    await start();
    clock = new Date('2026-11-28T15:00:00Z'); // Saturday 10:00 in New York
    const { callId } = await ring([
      { name: 'From', value: '<sip:+14155550123@pbx.example.com>' },
      { name: 'To', value: '<sip:+18005550100@sip.api.openai.com>' },
    ]);
    const [sent] = await fake.waitForRequests(1);
    expect(sent).toMatchObject({
      path: `/v1/realtime/calls/${callId}/reject`,
      body: { status_code: 404 },
    });
    const record = await recordOf(callId, 'completed');
    expect(record.decision.route).toBe('default');
    expect(record.decision.explanation.rules_before).toContainEqual({
      rule: 'office-hours',
      failed: expect.stringContaining('it is sat 10:00 in America/New_York'),
    });
  });

  it('refers a forwarded call using a capture from a repeated Diversion header', async () => {
    await start();
    const { callId } = await ring([
      { name: 'From', value: '<sip:+14155550123@pbx.example.com>' },
      { name: 'To', value: '<sip:+18885550111@sip.api.openai.com>' },
      { name: 'Diversion', value: '<sip:900@pbx.example.com>;reason=busy' },
      { name: 'DIVERSION', value: '<sip:204@pbx.example.com>;reason=no-answer' },
    ]);
    const [sent] = await fake.waitForRequests(1);
    expect(sent).toMatchObject({
      path: `/v1/realtime/calls/${callId}/refer`,
      body: { target_uri: 'sip:204@pbx.example.com' },
    });
  });

  it('retries a 500 and records both attempts', async () => {
    await start();
    fake.reply({ status: 500, body: { error: { message: 'boom' } } }, { status: 200 });
    const { callId } = await ring([
      { name: 'From', value: '<sip:1@x>' },
      { name: 'To', value: '<sip:+18005550100@y>' },
    ]);
    await fake.waitForRequests(2);
    const record = await recordOf(callId, 'completed');
    expect(record.openai).toMatchObject({ ok: true, attempts: 2 });
  });

  it('records a 404 as the caller having hung up: not retried, not an action failure', async () => {
    await start();
    fake.reply({
      status: 404,
      body: { error: { code: 'call_id_not_found', message: 'Call not found' } },
    });
    const { callId } = await ring([
      { name: 'From', value: '<sip:1@x>' },
      { name: 'To', value: '<sip:+18005550100@y>' },
    ]);
    const record = await recordOf(callId, 'caller_gone');
    expect(record.openai).toMatchObject({ ok: false, status: 404, attempts: 1 });
    expect(record.openai.error).toContain('call_id_not_found');
    // The record is written once call control has given its final answer: nothing follows it.
    expect(fake.requests).toHaveLength(1);
    const watcher = t.app.get(CallWatcher);
    await eventually(() =>
      expect(watcher.seen.map((e) => e.type)).toEqual(['call.routed', 'call.not_found']),
    );
  });

  it('retries 429 (rate limited), three attempts in all, and records the last answer', async () => {
    await start();
    const limited = {
      status: 429,
      body: { error: { code: 'rate_limit_exceeded', message: 'slow down' } },
    };
    fake.reply(limited, limited, limited, limited);
    const { callId } = await ring([
      { name: 'From', value: '<sip:1@x>' },
      { name: 'To', value: '<sip:+18005550100@y>' },
    ]);
    const record = await recordOf(callId, 'failed');
    expect(record.openai).toMatchObject({ ok: false, status: 429, attempts: 3 });
    expect(record.openai.error).toContain('rate_limit_exceeded');
    expect(fake.requests.map((r) => r.path)).toEqual(
      Array(3).fill(`/v1/realtime/calls/${callId}/accept`),
    );
  });

  it('answers with the attempt after a 429 that succeeds', async () => {
    await start();
    fake.reply({ status: 429, body: { error: { message: 'slow down' } } });
    const { callId } = await ring([
      { name: 'From', value: '<sip:1@x>' },
      { name: 'To', value: '<sip:+18005550100@y>' },
    ]);
    const record = await recordOf(callId, 'completed');
    expect(record.openai).toMatchObject({ ok: true, status: 200, attempts: 2 });
  });

  it('gives up after bounded attempts when OpenAI hangs, aborting each request, and says so', async () => {
    await start();
    fake.reply('hang', 'hang', 'hang');
    const { callId } = await ring([
      { name: 'From', value: '<sip:1@x>' },
      { name: 'To', value: '<sip:+18005550100@y>' },
    ]);
    const record = await recordOf(callId, 'failed');
    expect(record.openai).toMatchObject({ ok: false, attempts: 3 });
    expect(fake.requests).toHaveLength(3);
    // The client itself closed each hanging request when its time limit was up.
    await eventually(() =>
      expect(fake.requests.map((r) => r.abortedByClient)).toEqual([true, true, true]),
    );
    const watcher = t.app.get(CallWatcher);
    await eventually(() => expect(watcher.seen.map((e) => e.type)).toContain('call.action_failed'));
  });

  it('cuts an attempt short at the overall deadline, whatever the time limit of one attempt', async () => {
    // One attempt may take 60 s, but everything must end 400 ms after the first attempt started:
    // the hanging request is aborted at the deadline and no second attempt is started.
    await start({ callControl: { attemptTimeoutMs: 60_000, deadlineMs: 400 } });
    fake.reply('hang', 'hang');
    const { callId } = await ring([
      { name: 'From', value: '<sip:1@x>' },
      { name: 'To', value: '<sip:+18005550100@y>' },
    ]);
    const record = await recordOf(callId, 'failed');
    expect(record.openai).toMatchObject({ ok: false, attempts: 1 });
    expect(record.openai.duration_ms).toBeLessThan(60_000);
    expect(fake.requests).toHaveLength(1);
    await eventually(() => expect(fake.requests[0].abortedByClient).toBe(true));
  });

  it('never acts twice on one call, even when five deliveries of it under other webhook-ids arrive at once', async () => {
    await start();
    const headers = [
      { name: 'From', value: '<sip:1@x>' },
      { name: 'To', value: '<sip:+18005550100@y>' },
    ];
    const callId = 'rtc_same';
    const deliveries = Array.from({ length: 5 }, () =>
      signDelivery(
        JSON.stringify(
          sampleEvent('realtime.call.incoming', {
            data: { call_id: callId, sip_headers: headers },
          }),
        ),
      ),
    );
    // The five call handlers meet at their first store operation and go on together.
    callStore.arm(5);
    const responses = await Promise.all(deliveries.map((delivery) => t.deliver(delivery)));
    expect(responses.map((r) => [r.status, r.body.duplicate])).toEqual(Array(5).fill([200, false]));
    // Every delivery is stored and the call handler has finished with each of them...
    await eventually(async () => {
      const events = await t.store.list({ type: 'realtime.call.incoming', limit: 10 });
      expect(events).toHaveLength(5);
      for (const event of events) {
        const runs = (await t.store.find(String(event.seq)))!.runs;
        expect(runs.find((run) => run.handler === 'CallsService.onIncomingCall')?.status).toBe(
          'done',
        );
      }
    });
    // ...and OpenAI was told once, its answer recorded once.
    expect(fake.requests.map((r) => r.path)).toEqual([`/v1/realtime/calls/${callId}/accept`]);
    expect((await recordOf(callId, 'completed')).openai).toMatchObject({ ok: true, attempts: 1 });
  });

  describe('the call is answered before any other handler of it runs, whatever its priority', () => {
    const HANDLERS = ['-1000', '-200', '-100', '0'];
    const EVERYONE_SAW_IT = Object.fromEntries(HANDLERS.map((priority) => [priority, true]));

    it('on arrival', async () => {
      await start();
      fake.reply({ status: 200, delayMs: 50 }); // OpenAI takes a moment to answer
      const { callId } = await ring([
        { name: 'From', value: '<sip:1@x>' },
        { name: 'To', value: '<sip:+18005550100@y>' },
      ]);
      const handlers = t.app.get(RingingCallHandlers);
      await eventually(() => expect(Object.keys(handlers.sawDecision)).toHaveLength(4));
      expect(handlers.sawDecision).toEqual(EVERYONE_SAW_IT);
      await recordOf(callId, 'completed');
    });

    it('after a restart that finds the call and its handlers not yet run', async () => {
      const callId = 'rtc_left_ringing';
      // The process stored the call, answered 2xx and died before any handler ran.
      await start({
        leftByEarlierProcess: async (store) => {
          const event = sampleEvent('realtime.call.incoming', {
            data: {
              call_id: callId,
              sip_headers: [
                { name: 'From', value: '<sip:1@x>' },
                { name: 'To', value: '<sip:+18005550100@y>' },
              ],
            },
          });
          await store.append(
            {
              webhookId: 'wh_left_ringing',
              eventId: event.id,
              type: event.type,
              source: 'openai',
              payload: JSON.stringify(event),
              receivedAt: Date.now(),
            },
            [
              'CallsService.onIncomingCall',
              'RingingCallHandlers.atMinus1000',
              'RingingCallHandlers.atMinus200',
              'RingingCallHandlers.atMinus100',
              'RingingCallHandlers.atZero',
            ],
          );
        },
      });
      const handlers = t.app.get(RingingCallHandlers);
      await eventually(() => expect(Object.keys(handlers.sawDecision)).toHaveLength(4));
      expect(handlers.sawDecision).toEqual(EVERYONE_SAW_IT);
      expect(fake.requests.map((r) => r.path)).toEqual([`/v1/realtime/calls/${callId}/accept`]);
    });
  });

  it('decides each call by one rules version, recorded as rules_version, even when the rules change while it is in flight', async () => {
    // OpenAI answers once the test lets it: the attempt must not time out meanwhile.
    await start({ fromFile: false, callControl: { attemptTimeoutMs: 10_000 } });
    const before = await admin('get', '/rules').expect(200);
    const v1 = before.body.version as string;
    let answer!: () => void;
    fake.reply({ status: 200, until: new Promise<void>((resolve) => (answer = resolve)) });
    const headers = [
      { name: 'From', value: '<sip:1@x>' },
      { name: 'To', value: '<sip:+18005550100@y>' },
    ];
    const { callId } = await ring(headers);
    await fake.waitForRequests(1); // the accept is out; OpenAI has not answered yet

    // Meanwhile the office-hours rule changes to a reject: version 2 goes live.
    const document = structuredClone(before.body.document) as typeof RULES;
    document.rules.find((rule) => rule.id === 'office-hours')!.action = {
      reject: { status_code: 486 },
    } as never;
    const changed = await admin('put', '/rules').set('If-Match', `"${v1}"`).send(document);
    expect(changed.status).toBe(200);
    const v2 = (await admin('get', '/rules').expect(200)).body.version as string;
    expect(v2).not.toBe(v1);
    answer();

    // The call in flight stays with version 1, in its record and in its lifecycle events.
    const record = await recordOf(callId, 'completed');
    expect(record.decision).toMatchObject({
      rule: 'office-hours',
      rules_version: v1,
      action: { type: 'accept' },
    });
    const watcher = t.app.get(CallWatcher);
    await eventually(() =>
      // And `call.answered`, once the sideband is open (tested with the sidebands).
      expect(watcher.seen.map((e) => e.type).filter((type) => type !== 'call.answered')).toEqual([
        'call.routed',
        'call.accepted',
      ]),
    );
    expect(watcher.seen[0].data).toMatchObject({ call_id: callId, rules_version: v1 });

    // The next call is decided by version 2, and says so.
    const next = await ring(headers);
    const nextRecord = await recordOf(next.callId, 'completed');
    expect(nextRecord.decision).toMatchObject({
      rule: 'office-hours',
      rules_version: v2,
      action: { type: 'reject', status_code: 486 },
    });
    expect(fake.requests.map((r) => r.path)).toEqual([
      `/v1/realtime/calls/${callId}/accept`,
      `/v1/realtime/calls/${next.callId}/reject`,
    ]);
  });

  it('decides and records but sends nothing without an API key (dry mode)', async () => {
    await start({ apiKey: null });
    const { callId } = await ring([
      { name: 'From', value: '<sip:1@x>' },
      { name: 'To', value: '<sip:+18005550100@y>' },
    ]);
    const record = await recordOf(callId, 'dry_run');
    expect(record.decision.rule).toBe('office-hours');
    expect(fake.requests).toHaveLength(0);
  });

  it('records both of two operator actions sent at the same time', async () => {
    await start();
    const { callId } = await ring([
      { name: 'From', value: '<sip:1@x>' },
      { name: 'To', value: '<sip:+18005550100@y>' },
    ]);
    await recordOf(callId, 'completed');
    fake.reply({ status: 200, delayMs: 50 }, { status: 200, delayMs: 50 });
    await Promise.all([
      admin('post', `/calls/${callId}/refer`).send({ target_uri: 'tel:+14155550199' }).expect(200),
      admin('post', `/calls/${callId}/hangup`).expect(200),
    ]);
    const record = await recordOf(callId, 'completed');
    expect(record.operator_actions.map((a: { action: string }) => a.action).sort()).toEqual([
      'hangup',
      'refer',
    ]);
  });

  it('lets an operator hang up or transfer a live call', async () => {
    await start();
    const { callId } = await ring([
      { name: 'From', value: '<sip:1@x>' },
      { name: 'To', value: '<sip:+18005550100@y>' },
    ]);
    await fake.waitForRequests(1);
    await admin('post', `/calls/${callId}/refer`)
      .send({ target_uri: 'tel:+14155550199' })
      .expect(200);
    await admin('post', `/calls/${callId}/hangup`).expect(200);
    expect(fake.requests.slice(1).map((r) => [r.path, r.body])).toEqual([
      [`/v1/realtime/calls/${callId}/refer`, { target_uri: 'tel:+14155550199' }],
      [`/v1/realtime/calls/${callId}/hangup`, undefined],
    ]);
    const bad = await admin('post', `/calls/${callId}/refer`)
      .send({ target_uri: 'http://example.com' })
      .expect(400);
    expect(JSON.stringify(bad.body.message)).toContain(
      'target_uri must be a sip:, sips: or tel: URI',
    );
    await admin('post', '/calls/rtc_unknown/hangup').expect(404);
    fake.reply({ status: 400, body: { error: { message: 'call not active' } } });
    await admin('post', `/calls/${callId}/hangup`).expect(502);
    const list = await admin('get', '/calls?limit=10').expect(200);
    expect(list.body.calls[0]).toMatchObject({
      call_id: callId,
      operator_actions: [{ action: 'refer' }, { action: 'hangup' }, { action: 'hangup' }],
    });
  });
});
