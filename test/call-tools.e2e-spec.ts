import { Injectable, Module } from '@nestjs/common';
import { IsOptional, IsString, Matches } from 'class-validator';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { stringify } from 'yaml';
import {
  CALL_TOOL_RUNNER,
  CallsModule,
  CallTool,
  CallToolContext,
  CallToolRunContext,
  CallToolRunner,
  CallToolsService,
  ToolParam,
} from '../src';
import { CollectingLogger } from './support/collecting-logger';
import { FakeOpenAI } from './support/fake-openai';
import { physicalCall, realtimeAnnouncement } from './support/twin-calls';
import { createTestApp, eventually, TestApp } from './support/test-app';

const TOKEN = 'call-tools-admin-token';

const RULES = {
  version: 1,
  rules: [
    {
      id: 'support',
      when: { field: 'called.number', equals: '+18005550100' },
      action: { accept: { model: 'gpt-realtime', instructions: 'Help with orders.' } },
    },
  ],
  default: { reject: { status_code: 404 } },
};

// The user's code, as the README shows it.

class LookupOrderArgs {
  @ToolParam({ description: 'The order number, e.g. A1234' })
  @Matches(/^A\d{4}$/)
  order_id!: string;

  @IsOptional()
  @IsString()
  note?: string;
}

/** What the handlers saw. */
const journal: string[] = [];
let slowSignal: AbortSignal | undefined;

@Injectable()
class OrderTools {
  @CallTool('lookup_order', { description: 'Finds an order by its number' })
  async lookupOrder(args: LookupOrderArgs, ctx: CallToolContext) {
    journal.push(`lookup ${args.order_id} for ${ctx.from} on ${ctx.call_id} (${ctx.tool_call_id})`);
    if (args.order_id === 'A0000') throw new Error('the orders database is unavailable');
    return { order_id: args.order_id, status: 'shipped' };
  }

  @CallTool('track_parcel', { description: 'Asks the carrier', timeoutMs: 50 })
  trackParcel(_args: LookupOrderArgs, ctx: CallToolContext) {
    slowSignal = ctx.signal;
    // The carrier never answers: only the tool's signal ends the wait.
    return new Promise((_resolve, reject) =>
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
    );
  }
}

@Module({ providers: [OrderTools] })
class OrdersModule {}

/** Two tools of one name: the app does not start. */
@Injectable()
class ClashingTools {
  @CallTool('transfer_call')
  myTransfer(_args: LookupOrderArgs) {}
}

@Module({ providers: [ClashingTools] })
class ClashingModule {}

describe('tools as Nest handlers: @CallTool run through CallToolsService, as the sideband runs them', () => {
  let fake: FakeOpenAI;
  let dir: string;
  let t: TestApp;
  let logger: CollectingLogger;
  let tools: CallToolRunner;
  let callId: string;
  let ctx: CallToolRunContext;
  let counter = 0;

  async function start(userModules: unknown[]) {
    const rulesFile = join(dir, 'rules.yaml');
    writeFileSync(rulesFile, stringify(RULES));
    logger = new CollectingLogger();
    return createTestApp({
      options: { adminToken: TOKEN },
      storeFile: join(dir, 'switchboard.db'),
      logger,
      imports: [
        ...(userModules as []),
        CallsModule.forRoot({
          dataDir: dir,
          rulesFile,
          twinWaitMs: 0,
          callControl: { apiKey: 'sk-test', baseURL: fake.baseURL, retryBaseMs: 10 },
        }),
      ],
    });
  }

  const admin = (path: string) =>
    request(t.app.getHttpServer()).get(path).set('Authorization', `Bearer ${TOKEN}`);

  const run = (name: string, args: object | string, id = `call_${++counter}`, over = {}) =>
    tools.run(
      {
        tool_call_id: id,
        name,
        arguments: typeof args === 'string' ? args : JSON.stringify(args),
      },
      { ...ctx, ...over },
    );

  beforeEach(async () => {
    journal.length = 0;
    slowSignal = undefined;
    fake = await FakeOpenAI.start();
    dir = mkdtempSync(join(tmpdir(), 'call-tools-'));
    t = await start([OrdersModule]);
    tools = t.app.get<CallToolRunner>(CALL_TOOL_RUNNER);
    // A call answered by the rule, as the sideband finds it after the accept.
    const call = physicalCall();
    callId = call.realtimeId;
    await t.deliver(realtimeAnnouncement(call)).expect(200);
    await eventually(async () => {
      expect((await admin(`/calls/${callId}`).expect(200)).body.status).toBe('completed');
    });
    ctx = {
      call_id: callId,
      surface: 'realtime',
      surface_call_id: callId,
      from: '+14155550123',
      to: '+18005550100',
      sip_headers: call.sipHeaders,
      rule: 'support',
      transfer_targets: ['sip:desk@example.com', 'tel:+18005550199'],
    };
  });
  afterEach(async () => {
    await t?.close();
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is the CallToolsService, and declares the tools a rule names, the built-in ones too', () => {
    expect(tools).toBe(t.app.get(CallToolsService));
    expect(tools.declarations(['lookup_order', 'end_call'])).toEqual([
      {
        type: 'function',
        name: 'lookup_order',
        description: 'Finds an order by its number',
        parameters: {
          type: 'object',
          properties: {
            order_id: {
              description: 'The order number, e.g. A1234',
              type: 'string',
              pattern: '^A\\d{4}$',
            },
            note: { type: 'string' },
          },
          required: ['order_id'],
          additionalProperties: false,
        },
      },
      {
        type: 'function',
        name: 'end_call',
        description: expect.stringContaining('Ends the call'),
        parameters: {
          type: 'object',
          properties: { reason: expect.objectContaining({ type: 'string' }) },
          additionalProperties: false,
        },
      },
    ]);
    expect(tools.has('transfer_call')).toBe(true);
  });

  it("runs a valid call in the user's handler with the call's context, and logs one line", async () => {
    const result = await run('lookup_order', { order_id: 'A1234' }, 'call_valid');
    expect(result).toMatchObject({
      outcome: 'ok',
      output: '{"order_id":"A1234","status":"shipped"}',
    });
    expect(journal).toEqual([`lookup A1234 for +14155550123 on ${callId} (call_valid)`]);
    const lines = logger.find('log', 'call tool ran');
    expect(lines).toHaveLength(1);
    expect(lines[0].message).toMatch(
      new RegExp(
        `^call tool ran call_id=${callId} tool=lookup_order tool_call_id=call_valid outcome=ok duration_ms=[\\d.]+$`,
      ),
    );
  });

  it('answers invalid arguments to the model as a structured error; the handler is not called', async () => {
    const result = await run('lookup_order', { order_id: 'B12', extra: 1 });
    expect(result.outcome).toBe('invalid_arguments');
    expect(JSON.parse(result.output)).toEqual({
      error: 'invalid_arguments',
      problems: [
        'property extra should not exist',
        'order_id must match /^A\\d{4}$/ regular expression',
      ],
    });
    expect((await run('lookup_order', '{"order_id":')).outcome).toBe('invalid_arguments');
    expect(journal).toEqual([]);
    expect(logger.find('warn', 'outcome=invalid_arguments')).toHaveLength(2);
  });

  it('turns a throwing handler into an error output without a stack', async () => {
    const result = await run('lookup_order', { order_id: 'A0000' });
    expect(result).toMatchObject({
      outcome: 'error',
      output: '{"error":"tool_failed","message":"the orders database is unavailable"}',
    });
    expect(logger.find('warn', 'outcome=error')[0].message).toContain(
      'error="the orders database is unavailable"',
    );
  });

  it('times out a handler, tells the model, and aborts the handler signal', async () => {
    const result = await run('track_parcel', { order_id: 'A1234' });
    expect(result).toMatchObject({
      outcome: 'timeout',
      output: '{"error":"timeout","message":"track_parcel did not finish within 50 ms"}',
    });
    expect(slowSignal?.aborted).toBe(true);
  });

  it('runs a tool call id once: the second run is a duplicate with the first output', async () => {
    const first = await run('lookup_order', { order_id: 'A1234' }, 'call_once');
    const again = await run('lookup_order', { order_id: 'A9999' }, 'call_once');
    expect(again).toMatchObject({ outcome: 'duplicate', output: first.output });
    expect(journal).toHaveLength(1);
  });

  it('answers a tool that is not offered on the call', async () => {
    const result = await run('end_call', {}, undefined, { offered: ['lookup_order'] });
    expect(result.outcome).toBe('unknown_tool');
    expect(fake.requests.filter((r) => r.path.endsWith('/hangup'))).toEqual([]);
  });

  it("transfer_call refers the call through the operator's path, to an allowed target", async () => {
    const refused = await run('transfer_call', { target: 'tel:+19995550000' });
    expect(refused).toMatchObject({ outcome: 'error' });
    expect(JSON.parse(refused.output)).toEqual({
      error: 'invalid_target',
      message:
        '"tel:+19995550000" is not a transfer target of this call; choose one of: sip:desk@example.com, tel:+18005550199',
    });
    const none = await run('transfer_call', {}, undefined, { transfer_targets: [] });
    expect(JSON.parse(none.output).error).toBe('no_transfer_targets');
    expect(fake.requests.filter((r) => r.path.endsWith('/refer'))).toEqual([]);

    const chosen = await run('transfer_call', { target: 'tel:+18005550199', reason: 'billing' });
    expect(chosen).toMatchObject({
      outcome: 'ok',
      output: '{"transferred":true,"target":"tel:+18005550199"}',
    });
    const byDefault = await run('transfer_call', {});
    expect(JSON.parse(byDefault.output)).toEqual({
      transferred: true,
      target: 'sip:desk@example.com',
    });
    expect(
      fake.requests.filter((r) => r.path.endsWith('/refer')).map((r) => [r.path, r.body]),
    ).toEqual([
      [`/v1/realtime/calls/${callId}/refer`, { target_uri: 'tel:+18005550199' }],
      [`/v1/realtime/calls/${callId}/refer`, { target_uri: 'sip:desk@example.com' }],
    ]);
    const record = (await admin(`/calls/${callId}`).expect(200)).body;
    expect(record.operator_actions).toEqual([
      expect.objectContaining({
        action: 'refer',
        target_uri: 'tel:+18005550199',
        by: 'tool',
        reason: 'billing',
        surface: 'realtime',
        outcome: expect.objectContaining({ ok: true }),
      }),
      expect.objectContaining({ action: 'refer', target_uri: 'sip:desk@example.com', by: 'tool' }),
    ]);
    await eventually(async () => {
      const events = await t.store.list({ type: 'call.referred', limit: 10 });
      expect(events.map((e) => JSON.parse(e.payload).data)).toEqual([
        expect.objectContaining({ call_id: callId, by: 'tool', target_uri: 'tel:+18005550199' }),
        expect.objectContaining({
          call_id: callId,
          by: 'tool',
          target_uri: 'sip:desk@example.com',
        }),
      ]);
    });
  });

  it('transfer_call tells the model when OpenAI refuses the refer', async () => {
    fake.reply({ status: 404, body: { error: { message: 'call_id_not_found' } } });
    const result = await run('transfer_call', {});
    expect(result).toMatchObject({
      outcome: 'error',
      output: '{"error":"transfer_failed","message":"OpenAI refused the refer (HTTP 404)"}',
    });
  });

  it("end_call hangs up through the operator's path and records it", async () => {
    const result = await run('end_call', { reason: 'the caller said goodbye' });
    expect(result).toMatchObject({ outcome: 'ok', output: '{"ended":true}' });
    expect(fake.requests.map((r) => r.path)).toContain(`/v1/realtime/calls/${callId}/hangup`);
    const record = (await admin(`/calls/${callId}`).expect(200)).body;
    expect(record.operator_actions).toEqual([
      expect.objectContaining({ action: 'hangup', by: 'tool', reason: 'the caller said goodbye' }),
    ]);
    await eventually(async () => {
      const events = await t.store.list({ type: 'call.hung_up', limit: 10 });
      expect(events.map((e) => JSON.parse(e.payload).data)).toEqual([
        expect.objectContaining({ call_id: callId, by: 'tool', type: 'hangup' }),
      ]);
    });
  });

  it('refuses to start with two tools of one name, in one line naming both', async () => {
    await t.close();
    t = undefined as unknown as TestApp;
    await expect(start([ClashingModule])).rejects.toThrow(
      'two @CallTool handlers are named "transfer_call" (CallControlTools.transferCall and ClashingTools.myTransfer); rename one',
    );
  });
});
