import { Global, Injectable, Module } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { CallsService } from '../../src/calls/calls.service';
import {
  CALL_TOOL_RUNNER,
  CallToolRunner,
  ToolInvocation,
  ToolRunnerContext,
  ToolRunnerResult,
} from '../../src/calls/sideband/call-tool-runner';

/** A Nest provider of the "user's" app that answers a tool: looks an order up. */
@Injectable()
export class OrderDesk {
  readonly seen: { args: unknown; call_id: string; from?: string }[] = [];

  lookup(args: { order_id?: string }, context: ToolRunnerContext): unknown {
    this.seen.push({ args, call_id: context.call_id, from: context.from });
    if (!args.order_id) throw new Error('order_id is required');
    return { order_id: args.order_id, status: 'shipped' };
  }
}

/**
 * A stand-in for the tools module (src/calls/tools/, `CallToolsService`) until it is merged:
 * the same `CALL_TOOL_RUNNER` contract, two tools: `lookup_order` (a Nest provider's method) and
 * `transfer_call` (through CallsService's operator path, as the built-in one does).
 */
@Injectable()
export class TestToolRunner implements CallToolRunner {
  constructor(
    private readonly desk: OrderDesk,
    // Looked up when a tool runs: the calls module itself needs this runner to be built.
    private readonly modules: ModuleRef,
  ) {}

  declarations(names: string[]) {
    return names
      .filter((name) => this.has(name))
      .map((name) => ({
        type: 'function' as const,
        name,
        description: name === 'lookup_order' ? 'Look an order up by its id' : 'Transfer the call',
        parameters: { type: 'object', properties: { order_id: { type: 'string' } } },
      }));
  }

  has(name: string): boolean {
    return name === 'lookup_order' || name === 'transfer_call';
  }

  async run(invocation: ToolInvocation, context: ToolRunnerContext): Promise<ToolRunnerResult> {
    const started = Date.now();
    try {
      const args = JSON.parse(invocation.arguments) as { order_id?: string };
      let output: unknown;
      if (invocation.name === 'transfer_call') {
        const target = context.transfer_targets[0];
        const calls = this.modules.get(CallsService, { strict: false });
        await calls.operatorAction(context.call_id, { type: 'refer', target_uri: target });
        output = { transferred_to: target };
      } else output = this.desk.lookup(args, context);
      return { outcome: 'ok', output: JSON.stringify(output), duration_ms: Date.now() - started };
    } catch (error) {
      return {
        outcome: 'error',
        output: JSON.stringify({ error: (error as Error).message }),
        duration_ms: Date.now() - started,
      };
    }
  }
}

/** Provides `CALL_TOOL_RUNNER` to the calls module, as the tools module will. */
@Global()
@Module({
  providers: [
    OrderDesk,
    TestToolRunner,
    { provide: CALL_TOOL_RUNNER, useExisting: TestToolRunner },
  ],
  exports: [CALL_TOOL_RUNNER, OrderDesk],
})
export class TestToolsModule {}
