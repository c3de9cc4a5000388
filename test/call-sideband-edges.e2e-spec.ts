import { Injectable, Module } from '@nestjs/common';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { stringify } from 'yaml';
import { CallsModule } from '../src/calls/calls.module';
import type { SidebandOptions } from '../src/calls/sideband/sideband.options';
import { SqliteCallStore } from '../src/calls/store/sqlite-call-store';
import type { CallEvent } from '../src/events/call-event-types';
import { EventStreamModule } from '../src/stream/event-stream.module';
import { OnWebhookEvent } from '../src/webhooks/handlers/on-webhook-event.decorator';
import { FakeOpenAI } from './support/fake-openai';
import { liveEvents, realtimeEvents, Json } from './support/fake-sideband';
import { TestStreamClient } from './support/stream-client';
import { createTestApp, eventually, TestApp } from './support/test-app';
import { OrderDesk, OrderToolsModule } from './support/order-tools';
import { liveAnnouncement, physicalCall, realtimeAnnouncement } from './support/twin-calls';

const ADMIN = 'sideband-admin-token';

const RULES = {
  rules: [
    {
      id: 'support',
      when: { field: 'called.number', equals: '+18005550100' },
      action: {
        accept: {
          realtime: { model: 'gpt-realtime', instructions: 'You are a support agent.' },
          live: {
            model: 'gpt-live-1',
            instructions: 'You are a support agent.',
            delegation: { type: 'responses', responses: { model: 'gpt-5' } },
          },
          greeting: 'Thank you for calling Example Corp, {{caller.number}}. How can I help?',
          call_tools: ['lookup_order', 'transfer_call'],
          transcripts: true,
          transfer_targets: ['sip:desk@example.com'],
        },
      },
    },
  ],
};

/** A handler of the user's app, as `@OnWebhookEvent` finds it. */
@Injectable()
class CallEndings {
  readonly ended: CallEvent[] = [];

  @OnWebhookEvent('call.ended')
  onEnded(event: CallEvent<'call.ended'>) {
    this.ended.push(event);
  }
}

describe('the call after it is answered: edge cases a real sideband brings', () => {
  let fake: FakeOpenAI;
  let t: TestApp;
  let dir: string;
  let client: TestStreamClient | undefined;
  let callStore: SqliteCallStore;

  async function start(
    sideband: SidebandOptions = {},
    rules: object = RULES,
    apiKey?: string,
    databaseUrl?: string,
  ) {
    const rulesFile = join(dir, 'rules.yaml');
    writeFileSync(rulesFile, stringify(rules));
    callStore = new SqliteCallStore(':memory:');
    @Module({
      imports: [
        EventStreamModule.forRoot({ adminToken: ADMIN }),
        CallsModule.forRoot({
          ...(databaseUrl ? { databaseUrl } : { store: callStore }),
          rulesFile,
          twinWaitMs: 0,
          callControl: {
            apiKey: apiKey === undefined ? 'sk-test' : apiKey || undefined,
            baseURL: fake.baseURL,
            retryBaseMs: 10,
          },
          sideband: { reconnectBaseMs: 20, reconnectWindowMs: 3000, turnIdleMs: 5000, ...sideband },
        }),
        OrderToolsModule,
      ],
      providers: [CallEndings],
    })
    class App {}
    t = await createTestApp({ imports: [App], listen: true, options: { adminToken: ADMIN } });
    client = await TestStreamClient.connect(`ws://127.0.0.1:${t.port}/events`, ADMIN);
    client.send({ op: 'subscribe', types: ['call.*'] });
    await eventually(() => expect(client!.messages.some((m) => m.type === 'caught_up')).toBe(true));
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sideband-'));
    fake = await FakeOpenAI.start();
  });
  afterEach(async () => {
    client?.close();
    await t?.close();
    await callStore?.close();
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const admin = (method: 'get' | 'post', path: string) => {
    const server = request(t.app.getHttpServer());
    return (method === 'get' ? server.get(path) : server.post(path)).set(
      'Authorization',
      `Bearer ${ADMIN}`,
    );
  };

  async function recordWhen(id: string, check: (record: Json) => void): Promise<Json> {
    let record: Json = {};
    await eventually(async () => {
      record = (await admin('get', `/calls/${id}`).expect(200)).body as Json;
      check(record);
    }, 8000);
    return record;
  }

  /** The `call.*` events the stream delivered for this call: type and data. */
  const streamed = (id: string) =>
    client!
      .events()
      .filter((m) => m.event!.data.call_id === id)
      .map((m) => ({ type: m.event!.type, ...m.event!.data }));

  it('Realtime: an agent turn whose pieces paused past turnIdleMs is still one turn when its .done comes', async () => {
    await start({ turnIdleMs: 30 });
    const call = physicalCall();
    fake.calls.offer({ realtime: call.realtimeId });
    await t.deliver(realtimeAnnouncement(call)).expect(200);
    const sideband = await fake.sidebands.connection(call.realtimeId);
    await sideband.waitFor((e) => e.type === 'response.create');

    sideband.send(realtimeEvents.agentSaying('Your order A17 '));
    // The pieces pause (the idle flush makes a turn of them), then the whole turn arrives.
    await eventually(() =>
      expect(streamed(call.realtimeId).filter((e) => e.type === 'call.transcript')).toHaveLength(1),
    );
    sideband.send(realtimeEvents.agentSaying('has shipped.'));
    sideband.send(realtimeEvents.agentSaid('Your order A17 has shipped.'));
    sideband.send(realtimeEvents.callerSaid('Thanks.'));
    await eventually(() =>
      expect(
        streamed(call.realtimeId).filter((e) => (e as Json).speaker === 'caller'),
      ).toHaveLength(1),
    );
    fake.sidebands.hangUp(call.realtimeId);
    const record = await recordWhen(call.realtimeId, (r) => expect(r.ended).toBeDefined());
    expect(record.transcript.map((turn: Json) => [turn.speaker, turn.text])).toEqual([
      ['agent', 'Your order A17 has shipped.'],
      ['caller', 'Thanks.'],
    ]);
  });

  it('a long call keeps a bounded transcript: the last 1,000 turns, each at most 10,000 characters', async () => {
    await start();
    const call = physicalCall();
    fake.calls.offer({ realtime: call.realtimeId });
    await t.deliver(realtimeAnnouncement(call)).expect(200);
    const sideband = await fake.sidebands.connection(call.realtimeId);
    await sideband.waitFor((e) => e.type === 'response.create');

    sideband.send(realtimeEvents.callerSaid('a'.repeat(50_000)));
    for (let i = 1; i <= 1005; i++) sideband.send(realtimeEvents.callerSaid(`turn ${i}`));
    sideband.send(realtimeEvents.agentSaying('b'.repeat(30_000), 'item_long'));
    sideband.send(realtimeEvents.agentSaying('c'.repeat(30_000), 'item_long'));
    fake.sidebands.hangUp(call.realtimeId);
    const record = await recordWhen(call.realtimeId, (r) => expect(r.ended).toBeDefined());
    const turns = record.transcript as Json[];
    expect(turns).toHaveLength(1000);
    expect(turns[0].text).toBe('turn 7');
    expect(turns[998].text).toBe('turn 1005');
    // The last words, cut to the bound and marked so.
    expect(turns[999].speaker).toBe('agent');
    expect(turns[999].text).toHaveLength(10_000);
    expect(turns[999].text.endsWith('…')).toBe(true);
    // The stream had every turn, the first one cut too.
    const said = () => streamed(call.realtimeId).filter((e) => e.type === 'call.transcript');
    await eventually(() => expect(said()).toHaveLength(1007), 8000);
    expect(((said()[0] as Json).text as string).length).toBe(10_000);
  });

  it('with redaction on, a number keyed digit by digit is masked like a number said: all but its last four digits', async () => {
    await start({ redactNumbers: true });
    const call = physicalCall();
    fake.calls.offer({ realtime: call.realtimeId });
    await t.deliver(realtimeAnnouncement(call)).expect(200);
    const sideband = await fake.sidebands.connection(call.realtimeId);
    await sideband.waitFor((e) => e.type === 'response.create');

    // Realtime sends one event per key pressed.
    for (const digit of '4111111111111234') sideband.send(realtimeEvents.dtmf(digit));
    sideband.send(realtimeEvents.dtmf('#'));
    fake.sidebands.hangUp(call.realtimeId);
    const record = await recordWhen(call.realtimeId, (r) => expect(r.ended).toBeDefined());
    expect(record.dtmf.map((entry: Json) => entry.digits).join('')).toBe('************1234#');
    const keyed = () => streamed(call.realtimeId).filter((e) => e.type === 'call.dtmf');
    await eventually(() => expect(keyed()).toHaveLength(17));
    // An event cannot wait to learn whether a digit starts a number: digits go out masked.
    expect(
      keyed()
        .map((e) => (e as Json).digits)
        .join(''),
    ).toBe('****************#');
  });

  it('odd frames (binary, not JSON, not objects, fields missing or mistyped, very large) are ignored: the call goes on', async () => {
    await start();
    const call = physicalCall();
    fake.calls.offer({ live: call.liveId });
    await t.deliver(liveAnnouncement(call)).expect(200);
    const sideband = await fake.sidebands.connection(call.liveId);
    await sideband.waitFor((e) => e.type === 'session.instructions.append');

    sideband.send(liveEvents.callerSaying('x'.repeat(5_000_000)));
    const raw = sideband.socket;
    raw.send(Buffer.from([0xff, 0x00, 0x13]));
    for (const text of ['not json', 'null', '[]', '"text"', '42', '{"type":7}', '{"type":null}'])
      raw.send(text);
    for (const odd of [
      { type: 'response.event' },
      { type: 'response.event', event: null },
      { type: 'response.event', event: 'text' },
      { type: 'response.event', event: { type: 'response.output_item.done', item: null } },
      { type: 'response.event', event: { type: 'response.output_item.done', item: 'x' } },
      { type: 'response.event', event: { type: 'response.function_call_arguments.done' } },
      { type: 'session.input_transcript.delta', delta: { text: 'x' } },
      { type: 'transport.dtmf.received', digits: 5 },
      { type: 'session.closed', reason: { code: 1 } },
      { type: 'error', error: null },
      { type: 'error', error: 'text' },
      { type: '__proto__', __proto__: { polluted: true } },
    ])
      sideband.send(odd);

    // The session.closed with an odd reason ended the call as unknown: it was still read.
    const record = await recordWhen(call.liveId, (r) => expect(r.ended).toBeDefined());
    expect(record.ended).toMatchObject({ reason: 'unknown', inferred: false });
    expect(({} as Json).polluted).toBeUndefined();
    // The very large frame was read too, and kept within the bound.
    expect(record.transcript).toEqual([
      expect.objectContaining({ speaker: 'caller', text: `${'x'.repeat(9_999)}…` }),
    ]);
  });

  it('a function call repeated after a reconnect (a replayed event) runs once and is answered once', async () => {
    await start();
    const call = physicalCall();
    fake.calls.offer({ realtime: call.realtimeId });
    await t.deliver(realtimeAnnouncement(call)).expect(200);
    const first = await fake.sidebands.connection(call.realtimeId);
    await first.waitFor((e) => e.type === 'response.create');
    first.send(realtimeEvents.functionCall('fc_once', 'lookup_order', { order_id: 'A17' }));
    await first.waitFor((e) => e.type === 'conversation.item.create');
    first.drop();
    const second = await fake.sidebands.connection(call.realtimeId, 2);
    second.send(realtimeEvents.functionCall('fc_once', 'lookup_order', { order_id: 'A17' }));
    second.send(realtimeEvents.functionCall('fc_next', 'lookup_order', { order_id: 'A18' }));
    await second.waitFor((e) => e.item?.call_id === 'fc_next');
    expect(second.received.filter((e) => e.item?.call_id === 'fc_once')).toHaveLength(0);
    expect(t.app.get(OrderDesk).seen).toHaveLength(2);
  });

  it('a rule offering a tool no handler implements is loaded with a warning naming it', async () => {
    const rules = structuredClone(RULES) as Json;
    rules.rules[0].action.accept.call_tools = ['lookup_ordr', 'transfer_call'];
    rules.rules.push({
      id: 'plain',
      action: { accept: { model: 'gpt-realtime', call_tools: ['end_call'] } },
    });
    await start({}, rules);
    const warning =
      'rule "support": rules[0].action.accept.call_tools[0]: no @CallTool handler is named "lookup_ordr" in this application: the model is not offered it (the tools are: end_call, lookup_order, transfer_call)';
    const listed = (await admin('get', '/rules').expect(200)).body.warnings as string[];
    expect(listed).toContain(warning);
    expect(listed.filter((w) => w.includes('call_tools'))).toHaveLength(1);
    const evaluated = await admin('post', '/rules/evaluate')
      .send({ sip_headers: [{ name: 'To', value: '<sip:+18005550100@example.com>' }] })
      .expect(200);
    expect(evaluated.body.warnings).toContain(warning);
  });

  it('an operator message of only whitespace is refused as empty (400), before any call is looked up', async () => {
    await start();
    for (const text of ['   ', '\n\t '] as const) {
      const refused = await admin('post', '/calls/rtc_any/message').send({ text }).expect(400);
      expect(JSON.stringify(refused.body.message)).toContain(
        'text must contain more than whitespace',
      );
    }
    await admin('post', '/calls/rtc_any/message').send({ text: ' hi ' }).expect(404);
  });

  it('a sideband that reconnects but is closed again at once, over and over, ends the call after the reconnect window', async () => {
    await start({ reconnectWindowMs: 400 });
    const call = physicalCall();
    fake.calls.offer({ realtime: call.realtimeId });
    await t.deliver(realtimeAnnouncement(call)).expect(200);
    // The far end takes each connection and closes it straight away (a call that is over,
    // behind a server that still upgrades): no connection lasts, so the loss goes on.
    let ended: Json | undefined;
    for (let n = 1; n <= 60 && !ended; n++) {
      const connection = await fake.sidebands
        .connection(call.realtimeId, n, 3000)
        .catch(() => undefined);
      connection?.close();
      const record = (await admin('get', `/calls/${call.realtimeId}`).expect(200)).body as Json;
      ended = record.ended as Json | undefined;
      if (!connection) break;
    }
    expect(ended).toMatchObject({ reason: 'connection_lost', inferred: true });
  });

  it('a function call with huge arguments is answered, and the record keeps them cut to 10,000 characters', async () => {
    await start();
    const call = physicalCall();
    fake.calls.offer({ realtime: call.realtimeId });
    await t.deliver(realtimeAnnouncement(call)).expect(200);
    const sideband = await fake.sidebands.connection(call.realtimeId);
    await sideband.waitFor((e) => e.type === 'response.create');
    sideband.send(
      realtimeEvents.functionCall('fc_big', 'lookup_order', {
        order_id: 'A17',
        note: 'n'.repeat(2_000_000),
      }),
    );
    const output = await sideband.waitFor((e) => e.item?.call_id === 'fc_big');
    expect(JSON.parse(output.item.output).error).toBe('invalid_arguments');
    const record = await recordWhen(call.realtimeId, (r) =>
      expect(r.tool_calls?.[0]?.outcome).toBe('invalid_arguments'),
    );
    const kept = record.tool_calls[0].arguments as string;
    expect(typeof kept).toBe('string');
    expect(kept).toHaveLength(10_000);
    expect(kept.startsWith('{"order_id":"A17","note":"nnn')).toBe(true);
    expect(kept.endsWith('…')).toBe(true);
  });
});
