import { Injectable, Module } from '@nestjs/common';
import { IsNotEmpty, IsString } from 'class-validator';
import { CallTool } from '../../src/calls/tools/call-tool.decorator';
import type { CallToolContext } from '../../src/calls/tools/call-tool-runner';

export class LookupOrderArgs {
  @IsString()
  @IsNotEmpty()
  order_id!: string;
}

/** A tool of the "user's" app, as a Nest handler: looks an order up (`FAIL` throws). */
@Injectable()
export class OrderDesk {
  readonly seen: { args: unknown; call_id: string; from?: string }[] = [];

  @CallTool('lookup_order', { description: 'Look an order up by its id' })
  lookup(args: LookupOrderArgs, ctx: CallToolContext) {
    this.seen.push({ args: { ...args }, call_id: ctx.call_id, from: ctx.from });
    if (args.order_id === 'FAIL') throw new Error('the order system is down');
    return { order_id: args.order_id, status: 'shipped' };
  }
}

@Module({ providers: [OrderDesk], exports: [OrderDesk] })
export class OrderToolsModule {}
