import { Inject, Injectable, Module } from '@nestjs/common';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { parse, stringify } from 'yaml';
import { CallsModule } from '../src/calls/calls.module';
import type { SidebandOptions } from '../src/calls/sideband/sideband.options';
import { CALL_STORE, type CallRecord, type CallStore } from '../src/calls/store/call-store';
import { SqliteCallStore } from '../src/calls/store/sqlite-call-store';
import type { CallEvent } from '../src/events/call-event-types';
import { EventStreamModule } from '../src/stream/event-stream.module';
import { OnWebhookEvent } from '../src/webhooks/handlers/on-webhook-event.decorator';
import { FakeOpenAI } from './support/fake-openai';
import { liveEvents, realtimeEvents, Json } from './support/fake-sideband';
import { TestStreamClient } from './support/stream-client';
import { createTestApp, eventually, TestApp } from './support/test-app';
import { OrderDesk, OrderToolsModule } from './support/order-tools';
import { createTestSchema, TEST_DATABASE_URL } from './support/postgres';
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

/**
 * A call store on a slow disk: each record update takes 30 ms more, so that an event published
 * before the record write it announces has finished would be seen (and fail a test).
 */
class SlowWritingCallStore extends SqliteCallStore {
  override async update(...args: Parameters<SqliteCallStore['update']>): Promise<boolean> {
    await new Promise((resolve) => setTimeout(resolve, 30));
    return super.update(...args);
  }
}

/** A handler of the user's app, as `@OnWebhookEvent` finds it. */
@Injectable()
class CallEndings {
  readonly ended: CallEvent[] = [];
  /** The call's record as a handler of `call.ended` reads it, at once. */
  readonly recordsAtEnd: (CallRecord | undefined)[] = [];

  constructor(@Inject(CALL_STORE) private readonly calls: CallStore) {}

  @OnWebhookEvent('call.ended')
  async onEnded(event: CallEvent<'call.ended'>) {
    this.ended.push(event);
    this.recordsAtEnd.push(await this.calls.get(event.data.call_id));
  }
}

describe('the call after it is answered: a sideband per call, from ring to hang-up', () => {
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
    callStore = new SlowWritingCallStore(':memory:');
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

  it('Realtime: greeting, a tool answered by a Nest handler (once), the caller speaks, keys a digit and hangs up; record and stream show every step', async () => {
    await start();
    const call = physicalCall();
    fake.calls.offer({ realtime: call.realtimeId });
    await t.deliver(realtimeAnnouncement(call)).expect(200);

    // The accept offers the rule's tools and transcribes the caller.
    const [accept] = await fake.waitForRequests(1);
    const session = accept.body as Json;
    expect(session.tools).toEqual([
      expect.objectContaining({ type: 'function', name: 'lookup_order' }),
      expect.objectContaining({ type: 'function', name: 'transfer_call' }),
    ]);
    expect(session.audio.input.transcription).toEqual({ model: 'gpt-4o-mini-transcribe' });
    expect(session).not.toHaveProperty('greeting');
    expect(session).not.toHaveProperty('call_tools');

    const sideband = await fake.sidebands.connection(call.realtimeId);
    expect(sideband.authorization).toBe('Bearer sk-test');
    const greeting = await sideband.waitFor((e) => e.type === 'response.create');
    expect(greeting.response.instructions).toBe(
      'Thank you for calling Example Corp, [caller-supplied text: "+14155550123"]. How can I help?',
    );

    sideband.send(realtimeEvents.callerSaid('Where is my order A17?'));
    sideband.send(realtimeEvents.functionCall('fc_1', 'lookup_order', { order_id: 'A17' }));
    const output = await sideband.waitFor(
      (e) => e.type === 'conversation.item.create' && e.item.type === 'function_call_output',
    );
    expect(output.item).toEqual({
      type: 'function_call_output',
      call_id: 'fc_1',
      output: JSON.stringify({ order_id: 'A17', status: 'shipped' }),
    });
    const after = sideband.received.indexOf(output);
    expect(sideband.received[after + 1]).toEqual({ type: 'response.create' });
    // The same function call again (a redelivered event) does not run the tool again.
    sideband.send(realtimeEvents.functionCall('fc_1', 'lookup_order', { order_id: 'A17' }));
    sideband.send(realtimeEvents.agentSaying('Your order A17 '));
    sideband.send(realtimeEvents.agentSaid('Your order A17 has shipped.'));
    sideband.send(realtimeEvents.dtmf('5'));
    await recordWhen(call.realtimeId, (r) => expect(r.dtmf).toHaveLength(1));

    fake.sidebands.hangUp(call.realtimeId);
    const record = await recordWhen(call.realtimeId, (r) => expect(r.ended).toBeDefined());

    expect(t.app.get(OrderDesk).seen).toEqual([
      { args: { order_id: 'A17' }, call_id: call.realtimeId, from: '+14155550123' },
    ]);
    expect(record.answered_at).toEqual(expect.any(String));
    expect(record.sideband).toMatchObject({ state: 'closed', reconnects: 0 });
    expect(record.sideband.owner).toMatch(/:\d+$/);
    expect(record.transcript.map((turn: Json) => [turn.speaker, turn.text])).toEqual([
      ['caller', 'Where is my order A17?'],
      ['agent', 'Your order A17 has shipped.'],
    ]);
    expect(record.tool_calls).toEqual([
      expect.objectContaining({
        tool_call_id: 'fc_1',
        name: 'lookup_order',
        arguments: { order_id: 'A17' },
        output: JSON.stringify({ order_id: 'A17', status: 'shipped' }),
        outcome: 'ok',
        duration_ms: expect.any(Number),
      }),
    ]);
    expect(record.dtmf).toEqual([{ at: expect.any(String), digits: '5' }]);
    // Realtime has no end event: the end is read from the socket closing and the call gone.
    expect(record.ended).toMatchObject({ reason: 'caller_hung_up', inferred: true });
    expect(record.ended.duration_ms).toEqual(expect.any(Number));

    await eventually(() => expect(t.app.get(CallEndings).ended).toHaveLength(1));
    // What `call.ended` announces is in the record by the time a handler hears of it.
    const atEnd = t.app.get(CallEndings).recordsAtEnd[0]!;
    expect(atEnd.ended).toMatchObject({ reason: 'caller_hung_up' });
    expect(atEnd.transcript).toHaveLength(2);
    expect(t.app.get(CallEndings).ended[0].data).toMatchObject({
      call_id: call.realtimeId,
      surface: 'realtime',
      reason: 'caller_hung_up',
      inferred: true,
    });
    await eventually(() =>
      expect(streamed(call.realtimeId).map((e) => e.type)).toContain('call.ended'),
    );
    expect(streamed(call.realtimeId)).toEqual([
      expect.objectContaining({ type: 'call.routed' }),
      expect.objectContaining({ type: 'call.accepted', surface: 'realtime' }),
      expect.objectContaining({ type: 'call.answered', surface: 'realtime' }),
      expect.objectContaining({ type: 'call.transcript', speaker: 'caller', surface: 'realtime' }),
      expect.objectContaining({ type: 'call.tool_called', name: 'lookup_order', outcome: 'ok' }),
      expect.objectContaining({ type: 'call.transcript', speaker: 'agent' }),
      expect.objectContaining({ type: 'call.dtmf', digits: '5' }),
      expect.objectContaining({ type: 'call.ended', reason: 'caller_hung_up', inferred: true }),
    ]);
  });

  it('Live: tools under the delegation, the greeting appended, transcript deltas into turns, session.closed ends it', async () => {
    await start();
    const call = physicalCall();
    fake.calls.offer({ live: call.liveId });
    await t.deliver(liveAnnouncement(call)).expect(200);

    const [accept] = await fake.waitForRequests(1);
    expect(accept.path).toBe(`/v1/live/sessions/${call.liveId}/accept`);
    const session = (accept.body as Json).session;
    expect(session.tools).toBeUndefined();
    expect(session.delegation.responses.tools.map((tool: Json) => tool.name)).toEqual([
      'lookup_order',
      'transfer_call',
    ]);

    const sideband = await fake.sidebands.connection(call.liveId);
    expect(sideband.surface).toBe('live');
    const greeting = await sideband.waitFor((e) => e.type === 'session.instructions.append');
    expect(greeting.instructions).toContain('Thank you for calling Example Corp');

    sideband.send(liveEvents.started());
    sideband.send(liveEvents.callerSaying('Where is '));
    sideband.send(liveEvents.callerSaying('order B2?'));
    sideband.send(liveEvents.functionCall('fc_9', 'lookup_order', { order_id: 'B2' }));
    // The same call in its other form: still one run.
    sideband.send(liveEvents.functionCallArguments('fc_9', 'lookup_order', { order_id: 'B2' }));
    const output = await sideband.waitFor((e) => e.type === 'response.item.create');
    expect(output.item).toMatchObject({ type: 'function_call_output', call_id: 'fc_9' });
    expect(JSON.parse(output.item.output)).toEqual({ order_id: 'B2', status: 'shipped' });
    sideband.send(liveEvents.agentSaying('It shipped '));
    sideband.send(liveEvents.agentSaying('today.'));
    sideband.send(liveEvents.dtmf('12'));
    await recordWhen(call.liveId, (r) => expect(r.dtmf).toHaveLength(1));

    fake.sidebands.hangUp(call.liveId);
    const record = await recordWhen(call.liveId, (r) => expect(r.ended).toBeDefined());
    expect(record.ended).toMatchObject({ reason: 'caller_hung_up', inferred: false });
    expect(record.transcript.map((turn: Json) => [turn.speaker, turn.text])).toEqual([
      ['caller', 'Where is order B2?'],
      ['agent', 'It shipped today.'],
    ]);
    expect(record.tool_calls).toHaveLength(1);
    expect(t.app.get(OrderDesk).seen).toHaveLength(1);
    expect(
      sideband.received.filter((e) => e.type === 'response.item.create').map((e) => e.item.call_id),
    ).toEqual(['fc_9']);
    await eventually(() =>
      expect(streamed(call.liveId).map((e) => e.type)).toEqual([
        'call.routed',
        'call.accepted',
        'call.answered',
        'call.tool_called',
        'call.transcript', // the caller's turn, whole once the agent speaks
        'call.dtmf',
        'call.transcript', // the agent's, whole at the end (the last words are kept)
        'call.ended',
      ]),
    );
    expect(streamed(call.liveId).every((e) => (e as Json).surface === 'live')).toBe(true);
  });

  it('a dropped sideband reconnects while the call lives, and the call goes on over it', async () => {
    await start();
    const call = physicalCall();
    fake.calls.offer({ realtime: call.realtimeId });
    await t.deliver(realtimeAnnouncement(call)).expect(200);
    const first = await fake.sidebands.connection(call.realtimeId);
    await first.waitFor((e) => e.type === 'response.create');

    first.drop();
    const second = await fake.sidebands.connection(call.realtimeId, 2);
    await recordWhen(call.realtimeId, (r) =>
      expect(r.sideband).toMatchObject({ state: 'open', reconnects: 1 }),
    );
    // Greeted once, not again on the new connection.
    second.send(realtimeEvents.functionCall('fc_2', 'lookup_order', { order_id: 'C3' }));
    await second.waitFor((e) => e.type === 'conversation.item.create');
    expect(second.received.some((e) => e.response?.instructions)).toBe(false);

    fake.sidebands.hangUp(call.realtimeId);
    const record = await recordWhen(call.realtimeId, (r) => expect(r.ended).toBeDefined());
    expect(record.ended).toMatchObject({ reason: 'caller_hung_up', inferred: true });
    expect(record.sideband).toMatchObject({ state: 'closed', reconnects: 1 });
  });

  it('a sideband that cannot reconnect ends the call as connection_lost (inferred)', async () => {
    await start({ reconnectWindowMs: 300 });
    const call = physicalCall();
    fake.calls.offer({ realtime: call.realtimeId });
    await t.deliver(realtimeAnnouncement(call)).expect(200);
    const sideband = await fake.sidebands.connection(call.realtimeId);
    fake.sidebands.refuseNext.push(...Array<number>(50).fill(503));
    sideband.drop();
    const record = await recordWhen(call.realtimeId, (r) => expect(r.ended).toBeDefined());
    expect(record.ended).toMatchObject({ reason: 'connection_lost', inferred: true });
  });

  it('a tool that fails, and a tool the rule does not offer, give the model a clear output and an event', async () => {
    await start();
    const call = physicalCall();
    fake.calls.offer({ realtime: call.realtimeId });
    await t.deliver(realtimeAnnouncement(call)).expect(200);
    const sideband = await fake.sidebands.connection(call.realtimeId);
    const outputOf = (id: string) =>
      sideband.waitFor((e) => e.type === 'conversation.item.create' && e.item.call_id === id);
    sideband.send(realtimeEvents.functionCall('fc_bad', 'lookup_order', {}));
    expect(JSON.parse((await outputOf('fc_bad')).item.output)).toMatchObject({
      error: 'invalid_arguments',
    });
    sideband.send(realtimeEvents.functionCall('fc_fail', 'lookup_order', { order_id: 'FAIL' }));
    expect(JSON.parse((await outputOf('fc_fail')).item.output)).toEqual({
      error: 'tool_failed',
      message: 'the order system is down',
    });
    sideband.send(realtimeEvents.functionCall('fc_nope', 'delete_account', {}));
    expect(JSON.parse((await outputOf('fc_nope')).item.output)).toMatchObject({
      error: 'unknown_tool',
    });
    const record = await recordWhen(call.realtimeId, (r) =>
      expect(r.tool_calls?.map((c: Json) => c.outcome)).toEqual([
        'invalid_arguments',
        'error',
        'unknown_tool',
      ]),
    );
    expect(record.tool_calls[2]).toMatchObject({ name: 'delete_account', arguments: {} });
    await eventually(() =>
      expect(
        streamed(call.realtimeId)
          .filter((e) => e.type === 'call.tool_called')
          .map((e) => (e as Json).outcome),
      ).toEqual(['invalid_arguments', 'error', 'unknown_tool']),
    );
  });

  it('an error event is recorded on the sideband, and the call goes on', async () => {
    await start();
    const call = physicalCall();
    fake.calls.offer({ realtime: call.realtimeId });
    await t.deliver(realtimeAnnouncement(call)).expect(200);
    const sideband = await fake.sidebands.connection(call.realtimeId);
    sideband.send(realtimeEvents.error('The tool output was malformed', 'invalid_value'));
    const record = await recordWhen(call.realtimeId, (r) =>
      expect(r.sideband.note).toBe('error event: invalid_value: The tool output was malformed'),
    );
    expect(record.sideband.state).toBe('open');
    expect(record.ended).toBeUndefined();
  });

  it('an operator message goes into the conversation and the record; a transfer by a tool ends the call as transferred', async () => {
    await start();
    const call = physicalCall();
    fake.calls.offer({ live: call.liveId });
    await t.deliver(liveAnnouncement(call)).expect(200);
    const sideband = await fake.sidebands.connection(call.liveId);
    await sideband.waitFor((e) => e.type === 'session.instructions.append');

    await admin('post', `/calls/${call.liveId}/message`).send({ text: '' }).expect(400);
    const sent = await admin('post', `/calls/${call.liveId}/message`)
      .send({ text: 'Offer the caller a 10% discount.' })
      .expect(200);
    expect(sent.body).toEqual({ call_id: call.liveId, action: 'message', sent: true });
    await sideband.waitFor(
      (e) =>
        e.type === 'session.instructions.append' &&
        e.instructions === 'Offer the caller a 10% discount.',
    );

    sideband.send(liveEvents.functionCall('fc_t', 'transfer_call', {}));
    const record = await recordWhen(call.liveId, (r) => expect(r.ended).toBeDefined());
    expect(fake.on('live').map((r) => [r.control!.verb, r.body])).toEqual([
      ['accept', expect.anything()],
      ['refer', { target_uri: 'sip:desk@example.com' }],
    ]);
    expect(record.transfers).toEqual([
      expect.objectContaining({ target_uri: 'sip:desk@example.com', by: 'tool' }),
    ]);
    expect(record.ended).toMatchObject({ reason: 'transferred', inferred: false });
    expect(record.operator_actions).toEqual([
      expect.objectContaining({ action: 'message', text: 'Offer the caller a 10% discount.' }),
      expect.objectContaining({ action: 'refer', target_uri: 'sip:desk@example.com' }),
    ]);
    expect(record.transcript).toEqual([
      expect.objectContaining({ speaker: 'operator', text: 'Offer the caller a 10% discount.' }),
    ]);
    await eventually(() =>
      expect(streamed(call.liveId)).toContainEqual(
        expect.objectContaining({ type: 'call.transferred', by: 'tool', surface: 'live' }),
      ),
    );
    // Over: no sideband to speak into.
    const late = await admin('post', `/calls/${call.liveId}/message`)
      .send({ text: 'Hello?' })
      .expect(409);
    expect(late.body.message).toContain('ended (transferred)');
  });

  it('beyond SIDEBAND_MAX_CALLS a call is still routed and answered, without a sideband, and says so', async () => {
    await start({ maxCalls: 1 });
    const [first, second] = [physicalCall(), physicalCall()];
    fake.calls.offer({ realtime: first.realtimeId });
    fake.calls.offer({ realtime: second.realtimeId });
    await t.deliver(realtimeAnnouncement(first)).expect(200);
    await fake.sidebands.connection(first.realtimeId);
    await t.deliver(realtimeAnnouncement(second)).expect(200);

    const record = await recordWhen(second.realtimeId, (r) =>
      expect(r.sideband?.state).toBe('not_opened'),
    );
    expect(record.status).toBe('completed');
    expect(record.answered_at).toEqual(expect.any(String));
    expect(record.sideband.note).toContain('SIDEBAND_MAX_CALLS');
    expect(fake.on('realtime').map((r) => r.control!.id)).toEqual([
      first.realtimeId,
      second.realtimeId,
    ]);
    expect(fake.sidebands.of(second.realtimeId)).toHaveLength(0);

    // The first call's end frees its place: the next call gets a sideband again.
    fake.sidebands.hangUp(first.realtimeId);
    await recordWhen(first.realtimeId, (r) => expect(r.ended).toBeDefined());
    const third = physicalCall();
    fake.calls.offer({ realtime: third.realtimeId });
    await t.deliver(realtimeAnnouncement(third)).expect(200);
    await fake.sidebands.connection(third.realtimeId);
  });

  it('the dry run (POST /rules/evaluate) shows the rule fields and the accept as sent, tools declared', async () => {
    await start();
    const call = physicalCall();
    const { body } = await admin('post', '/rules/evaluate')
      .send({ sip_headers: call.sipHeaders, surfaces: ['live'] })
      .expect(200);
    expect(body.action).toMatchObject({
      type: 'accept',
      greeting:
        'Thank you for calling Example Corp, [caller-supplied text: "+14155550123"]. How can I help?',
      call_tools: ['lookup_order', 'transfer_call'],
      transcripts: true,
      transfer_targets: ['sip:desk@example.com'],
    });
    expect(body.surface).toBe('live');
    expect(body.request.session).not.toHaveProperty('greeting');
    expect(body.request.session.delegation.responses.tools.map((tool: Json) => tool.name)).toEqual([
      'lookup_order',
      'transfer_call',
    ]);
  });

  it('without an API key (dry run) no sideband is opened; an operator message is recorded, not sent (202)', async () => {
    await start({}, RULES, '');
    const call = physicalCall();
    await t.deliver(realtimeAnnouncement(call)).expect(200);
    const record = await recordWhen(call.realtimeId, (r) => expect(r.status).toBe('dry_run'));
    expect(record.sideband).toBeUndefined();
    expect(record.answered_at).toBeUndefined();
    const sent = await admin('post', `/calls/${call.realtimeId}/message`)
      .send({ text: 'Hello' })
      .expect(202);
    expect(sent.body).toEqual({ call_id: call.realtimeId, action: 'message', dry_run: true });
    await admin('post', '/calls/rtc_nobody/message').send({ text: 'Hello' }).expect(404);
    await admin('post', `/calls/${call.realtimeId}/message`)
      .send({ text: 'x'.repeat(4001) })
      .expect(400);
    expect(fake.sidebands.connections).toHaveLength(0);
  });

  it('a Realtime operator message is a system message item and a response', async () => {
    await start();
    const call = physicalCall();
    fake.calls.offer({ realtime: call.realtimeId });
    await t.deliver(realtimeAnnouncement(call)).expect(200);
    const sideband = await fake.sidebands.connection(call.realtimeId);
    await sideband.waitFor((e) => e.type === 'response.create');
    await admin('post', `/calls/${call.realtimeId}/message`)
      .send({ text: 'The caller is a VIP.' })
      .expect(200);
    const item = await sideband.waitFor((e) => e.type === 'conversation.item.create');
    expect(item.item).toEqual({
      type: 'message',
      role: 'system',
      content: [{ type: 'input_text', text: 'The caller is a VIP.' }],
    });
    expect(sideband.received[sideband.received.indexOf(item) + 1]).toEqual({
      type: 'response.create',
    });
    await admin('post', `/calls/${call.realtimeId}/hangup`).expect(200);
    const record = await recordWhen(call.realtimeId, (r) => expect(r.ended).toBeDefined());
    expect(record.ended).toMatchObject({ reason: 'we_hung_up', inferred: false });
  });

  it("the README's rule example is the rule these tests run, and its message example is answered as it says", async () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### The call after it is answered'));
    expect(parse(/```yaml\n([\s\S]*?)```/.exec(section)![1])).toEqual(RULES);
    const [, body, answer] = /```sh\ncurl .*?\/message \\\n\s+-d '(.*)'\n# (.*)\n```/.exec(
      section,
    )!;

    await start();
    const call = physicalCall();
    fake.calls.offer({ realtime: call.realtimeId });
    await t.deliver(realtimeAnnouncement(call)).expect(200);
    await (
      await fake.sidebands.connection(call.realtimeId)
    ).waitFor((e) => e.type === 'response.create');
    const sent = await admin('post', `/calls/${call.realtimeId}/message`)
      .set('content-type', 'application/json')
      .send(body)
      .expect(200);
    expect(sent.body).toEqual(JSON.parse(answer.replace('rtc_123', call.realtimeId)));
  });

  (TEST_DATABASE_URL ? it : it.skip)(
    'on PostgreSQL (DATABASE_URL): the call after answer is recorded the same way',
    async () => {
      const schema = await createTestSchema('sideband');
      try {
        await start({}, RULES, undefined, schema.url);
        const call = physicalCall();
        fake.calls.offer({ live: call.liveId });
        await t.deliver(liveAnnouncement(call)).expect(200);
        const sideband = await fake.sidebands.connection(call.liveId);
        sideband.send(liveEvents.callerSaying('Where is order D4?'));
        sideband.send(liveEvents.functionCall('fc_pg', 'lookup_order', { order_id: 'D4' }));
        await sideband.waitFor((e) => e.type === 'response.item.create');
        sideband.send(liveEvents.dtmf('9'));
        fake.sidebands.hangUp(call.liveId);
        const record = await recordWhen(call.liveId, (r) => expect(r.ended).toBeDefined());
        expect(record).toMatchObject({
          answered_at: expect.any(String),
          sideband: { state: 'closed', reconnects: 0 },
          transcript: [{ speaker: 'caller', text: 'Where is order D4?' }],
          tool_calls: [{ tool_call_id: 'fc_pg', outcome: 'ok' }],
          dtmf: [{ digits: '9' }],
          ended: { reason: 'caller_hung_up', inferred: false },
        });
      } finally {
        client?.close();
        client = undefined;
        await t?.close();
        t = undefined as unknown as TestApp;
        await schema.drop();
      }
    },
  );

  it('shutdown closes the open sidebands cleanly and records it', async () => {
    await start();
    const call = physicalCall();
    fake.calls.offer({ realtime: call.realtimeId });
    await t.deliver(realtimeAnnouncement(call)).expect(200);
    const sideband = await fake.sidebands.connection(call.realtimeId);
    const closed = new Promise<number>((resolve) => sideband.socket.once('close', resolve));
    client?.close();
    client = undefined;
    await t.close();
    t = undefined as unknown as TestApp;
    expect(await closed).toBe(1001);
    const record = (await callStore.get(call.realtimeId))!;
    expect(record.sideband).toMatchObject({ state: 'closed' });
    expect(record.sideband!.note).toContain('closed on shutdown');
    expect(record.ended).toBeUndefined();
  });
});
