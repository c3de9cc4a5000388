import { Injectable, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { IsInt, IsOptional, Matches, Min } from 'class-validator';
import { CALLS_MODULE_OPTIONS } from '../calls.module-definition';
import { CallTool } from './call-tool.decorator';
import { CallToolError } from './call-tool-error';
import { CallToolRegistry } from './call-tool.registry';
import type { CallToolContext, CallToolRunContext } from './call-tool-runner';
import { CallToolsService } from './call-tools.service';
import { ToolParam } from './tool-param.decorator';

class LookupOrderArgs {
  @ToolParam({ description: 'The order number' })
  @Matches(/^A\d{4}$/)
  order_id!: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  limit?: number;
}

class Nothing {}

/** What the handlers saw, for the assertions. */
const seen: { args?: unknown; ctx?: CallToolContext; aborted?: unknown; runs: number } = {
  runs: 0,
};

@Injectable()
class OrderTools {
  @CallTool('lookup_order', { description: 'Finds an order' })
  lookup(args: LookupOrderArgs, ctx: CallToolContext) {
    seen.runs += 1;
    seen.args = args;
    seen.ctx = ctx;
    return { order_id: args.order_id, status: 'shipped' };
  }

  @CallTool('say_hello')
  hello(_args: Nothing) {
    seen.runs += 1;
    return 'hello, as it is';
  }

  @CallTool('note_it')
  note(_args: Nothing) {
    seen.runs += 1;
  }

  @CallTool('explode')
  explode(_args: Nothing) {
    throw new TypeError('the database is down');
  }

  @CallTool('refuse')
  refuse(_args: Nothing) {
    throw new CallToolError('order_not_found', 'no order A0000');
  }

  @CallTool('circular')
  circular(_args: Nothing) {
    const value: Record<string, unknown> = {};
    value.self = value;
    return value;
  }

  /** A result far larger than a model's input. */
  @CallTool('flood')
  flood(_args: Nothing) {
    return { rows: 'x'.repeat(150_000) };
  }

  /** Never answers: only its signal ends it. */
  @CallTool('hang', { timeoutMs: 20 })
  hang(_args: Nothing, ctx: CallToolContext) {
    return new Promise((_resolve, reject) => {
      ctx.signal.addEventListener('abort', () => {
        seen.aborted = ctx.signal.reason;
        reject(new Error('aborted'));
      });
    });
  }

  /** Takes as long as the test wants: for concurrent duplicates and the caller's abort. */
  @CallTool('slow', { timeoutMs: 60_000 })
  async slow(_args: Nothing, ctx: CallToolContext) {
    seen.runs += 1;
    seen.ctx = ctx;
    await released;
    return { done: seen.runs };
  }
}

let release!: () => void;
let released: Promise<void>;

const CTX: CallToolRunContext = {
  call_id: 'rtc_1',
  surface: 'realtime',
  surface_call_id: 'rtc_1',
  from: '+14155550100',
  sip_headers: [{ name: 'From', value: '<sip:+14155550100@example.com>' }],
  transfer_targets: [],
};

async function start(...providers: (new (...args: never[]) => object)[]) {
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule],
    providers: [
      CallToolRegistry,
      CallToolsService,
      { provide: CALLS_MODULE_OPTIONS, useValue: {} },
      ...providers,
    ],
  }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  return moduleRef;
}

describe('CallToolsService', () => {
  let tools: CallToolsService;
  let counter = 0;
  const call = (name: string, args: string, ctx: CallToolRunContext = CTX, id?: string) =>
    tools.run({ tool_call_id: id ?? `call_${++counter}`, name, arguments: args }, ctx);

  beforeAll(async () => {
    tools = (await start(OrderTools)).get(CallToolsService);
  });
  beforeEach(() => {
    seen.runs = 0;
    seen.args = seen.ctx = seen.aborted = undefined;
    released = new Promise((resolve) => (release = resolve));
  });

  it('declares the named tools with the schema of their DTO, leaving out unknown names', () => {
    expect(tools.declarations(['lookup_order', 'no_such_tool', 'say_hello'])).toEqual([
      {
        type: 'function',
        name: 'lookup_order',
        description: 'Finds an order',
        parameters: {
          type: 'object',
          properties: {
            order_id: { description: 'The order number', type: 'string', pattern: '^A\\d{4}$' },
            limit: { type: 'integer', minimum: 1 },
          },
          required: ['order_id'],
          additionalProperties: false,
        },
      },
      {
        type: 'function',
        name: 'say_hello',
        description: '',
        parameters: { type: 'object', properties: {}, additionalProperties: false },
      },
    ]);
    expect(tools.has('lookup_order')).toBe(true);
    expect(tools.has('no_such_tool')).toBe(false);
  });

  it('runs a valid call with the DTO instance and the call context; objects as JSON', async () => {
    const result = await call('lookup_order', '{"order_id":"A1234","limit":2}', CTX, 'call_ok');
    expect(result).toMatchObject({
      outcome: 'ok',
      output: '{"order_id":"A1234","status":"shipped"}',
    });
    expect(result.duration_ms).toBeGreaterThanOrEqual(0);
    expect(seen.args).toBeInstanceOf(LookupOrderArgs);
    expect(seen.args).toEqual({ order_id: 'A1234', limit: 2 });
    expect(seen.ctx).toMatchObject({ ...CTX, tool_call_id: 'call_ok' });
    expect(seen.ctx!.signal.aborted).toBe(false);
  });

  it('passes a string result as it is, and says ok for a handler that returns nothing', async () => {
    expect(await call('say_hello', '{}')).toMatchObject({
      outcome: 'ok',
      output: 'hello, as it is',
    });
    expect(await call('note_it', '')).toMatchObject({ outcome: 'ok', output: '{"ok":true}' });
  });

  it('answers invalid arguments to the model without calling the handler', async () => {
    const wrong = await call('lookup_order', '{"order_id":"B1","limit":0,"extra":true}');
    expect(wrong.outcome).toBe('invalid_arguments');
    expect(JSON.parse(wrong.output)).toEqual({
      error: 'invalid_arguments',
      problems: expect.arrayContaining([
        'property extra should not exist',
        'order_id must match /^A\\d{4}$/ regular expression',
        'limit must not be less than 1',
      ]),
    });
    const missing = JSON.parse((await call('lookup_order', '{}')).output);
    expect(missing.problems).toEqual(['order_id must match /^A\\d{4}$/ regular expression']);
    const badJson = await call('lookup_order', '{"order_id": "A1234"');
    expect(badJson.outcome).toBe('invalid_arguments');
    expect(JSON.parse(badJson.output).problems[0]).toMatch(/^arguments are not valid JSON: /);
    const array = JSON.parse((await call('lookup_order', '["A1234"]')).output);
    expect(array.problems).toEqual(['arguments must be a JSON object']);
    const deep = JSON.parse(
      (await call('lookup_order', '{"a":'.repeat(40) + '1' + '}'.repeat(40))).output,
    );
    expect(deep.problems).toEqual(['arguments nests lists and objects deeper than 32 levels']);
    expect(seen.runs).toBe(0);
  });

  it('answers a tool that does not exist, or that the call does not offer', async () => {
    const missing = await call('lookup_ordr', '{}');
    expect(missing.outcome).toBe('unknown_tool');
    expect(JSON.parse(missing.output)).toEqual({
      error: 'unknown_tool',
      message: expect.stringContaining('no tool named "lookup_ordr" on this call'),
    });
    const notOffered = await call('say_hello', '{}', { ...CTX, offered: ['lookup_order'] });
    expect(notOffered).toMatchObject({
      outcome: 'unknown_tool',
      output: JSON.stringify({
        error: 'unknown_tool',
        message: 'no tool named "say_hello" on this call; the tools are: lookup_order',
      }),
    });
    expect(seen.runs).toBe(0);
  });

  it("turns a handler's failure into an output with its message and no stack", async () => {
    const failed = await call('explode', '{}');
    expect(failed).toMatchObject({
      outcome: 'error',
      output: '{"error":"tool_failed","message":"the database is down"}',
    });
    expect(await call('refuse', '{}')).toMatchObject({
      outcome: 'error',
      output: '{"error":"order_not_found","message":"no order A0000"}',
    });
    const circular = await call('circular', '{}');
    expect(circular.outcome).toBe('error');
    expect(JSON.parse(circular.output).message).toMatch(/^its result cannot be written as JSON/);
  });

  it('answers a result too large for the model with an error output, not the result', async () => {
    const flooded = await call('flood', '{}');
    expect(flooded.outcome).toBe('error');
    expect(JSON.parse(flooded.output)).toEqual({
      error: 'output_too_large',
      message: 'flood returned 150011 characters; at most 100000 go back to the model',
    });
  });

  it('times out a handler that does not finish, and aborts its signal', async () => {
    const result = await call('hang', '{}');
    expect(result).toMatchObject({
      outcome: 'timeout',
      output: '{"error":"timeout","message":"hang did not finish within 20 ms"}',
    });
    expect(seen.aborted).toMatchObject({ name: 'TimeoutError' });
  });

  it("aborts the handler's signal when the caller's signal aborts", async () => {
    const caller = new AbortController();
    const running = call('slow', '{}', { ...CTX, signal: caller.signal });
    await waitFor(() => seen.ctx !== undefined);
    caller.abort(new Error('the call ended'));
    expect(seen.ctx!.signal.aborted).toBe(true);
    expect(seen.ctx!.signal.reason).toEqual(new Error('the call ended'));
    release();
    expect((await running).outcome).toBe('ok');
  });

  it('runs each tool call id once: a repeat gets the first output as a duplicate', async () => {
    const first = call('slow', '{}', CTX, 'call_dup');
    const concurrent = call('slow', '{}', CTX, 'call_dup');
    release();
    expect(await first).toMatchObject({ outcome: 'ok', output: '{"done":1}' });
    expect(await concurrent).toMatchObject({ outcome: 'duplicate', output: '{"done":1}' });
    expect(await call('slow', '{"ignored":1}', CTX, 'call_dup')).toMatchObject({
      outcome: 'duplicate',
      output: '{"done":1}',
    });
    expect(seen.runs).toBe(1);
    // The same id on another call is another tool call.
    const other = await call('slow', '{}', { ...CTX, call_id: 'rtc_2' }, 'call_dup');
    expect(other).toMatchObject({ outcome: 'ok', output: '{"done":2}' });
  });
});

describe('CallToolRegistry at start-up', () => {
  it('refuses two tools of one name, naming both', async () => {
    @Injectable()
    class Orders {
      @CallTool('lookup_order')
      find(_args: Nothing) {}
    }
    @Injectable()
    class MoreOrders {
      @CallTool('lookup_order')
      lookup(_args: Nothing) {}
    }
    await expect(start(Orders, MoreOrders)).rejects.toThrow(
      'two @CallTool handlers are named "lookup_order" (MoreOrders.lookup and Orders.find); rename one',
    );
  });

  it('refuses arguments that are not a class, and takes { args } instead', async () => {
    @Injectable()
    class Loose {
      @CallTool('loose')
      loose(_args: { id: string }) {}
    }
    await expect(start(Loose)).rejects.toThrow(
      "@CallTool('loose') on Loose.loose: the first parameter's type (Object) is not a class",
    );
    @Injectable()
    class Explicit {
      @CallTool('explicit', { args: LookupOrderArgs })
      explicit(args: unknown) {
        return args;
      }
    }
    const moduleRef = await start(Explicit);
    const result = await moduleRef
      .get(CallToolsService)
      .run({ tool_call_id: 'c', name: 'explicit', arguments: '{"order_id":"A1"}' }, CTX);
    expect(result.outcome).toBe('invalid_arguments');
  });

  it('finds a tool once although its provider is also exposed under an alias', async () => {
    @Module({
      providers: [OrderTools, { provide: 'ALIAS', useExisting: OrderTools }],
      exports: [OrderTools],
    })
    class Feature {}
    const moduleRef = await Test.createTestingModule({
      imports: [DiscoveryModule, Feature],
      providers: [CallToolRegistry, CallToolsService],
    }).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    expect(moduleRef.get(CallToolsService).has('lookup_order')).toBe(true);
  });
});

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!check()) throw new Error('condition not met');
}
