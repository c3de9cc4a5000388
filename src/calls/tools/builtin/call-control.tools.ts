import { Injectable } from '@nestjs/common';
import { CallsService } from '../../calls.service';
import { CallTool } from '../call-tool.decorator';
import { CallToolError } from '../call-tool-error';
import type { CallToolContext } from '../call-tool-runner';
import { EndCallArgs, TransferCallArgs } from './call-control-tools.dto';

/**
 * The built-in tools a rule can offer (`call_tools: [transfer_call, end_call]`): the model
 * transfers or ends the call through the operator's own path (`POST /calls/:id/refer` and
 * `/hangup`), recorded in the call's `operator_actions` with `by: "tool"` and published as
 * `call.referred` / `call.hung_up` with `by: "tool"`. They are `@CallTool` handlers like any
 * user's.
 */
@Injectable()
export class CallControlTools {
  constructor(private readonly calls: CallsService) {}

  @CallTool('transfer_call', {
    description:
      'Transfers the caller to a person or another number and leaves the call. Tell the caller before you call it.',
  })
  async transferCall(args: TransferCallArgs, ctx: CallToolContext) {
    const allowed = ctx.transfer_targets;
    if (allowed.length === 0) {
      throw new CallToolError(
        'no_transfer_targets',
        'this call has no transfer targets (the rule sets none), so it cannot be transferred',
      );
    }
    const target = args.target?.trim() || allowed[0];
    if (!allowed.includes(target)) {
      throw new CallToolError(
        'invalid_target',
        `"${target}" is not a transfer target of this call; choose one of: ${allowed.join(', ')}`,
      );
    }
    const outcome = await this.act(ctx, { type: 'refer', target_uri: target }, args.reason);
    return { transferred: true, target, ...outcome };
  }

  @CallTool('end_call', {
    description: 'Ends the call (hangs up). Say goodbye before you call it.',
  })
  async endCall(args: EndCallArgs, ctx: CallToolContext) {
    const outcome = await this.act(ctx, { type: 'hangup' }, args.reason);
    return { ended: true, ...outcome };
  }

  private async act(
    ctx: CallToolContext,
    request: Parameters<CallsService['operatorAction']>[1],
    reason: string | undefined,
  ): Promise<{ dry_run?: true }> {
    const result = await this.calls.operatorAction(ctx.call_id, request, { by: 'tool', reason });
    if (!result) throw new CallToolError('unknown_call', `no call ${ctx.call_id} is recorded`);
    if (!result.outcome) return { dry_run: true };
    if (!result.outcome.ok) {
      const status = result.outcome.status ? ` (HTTP ${result.outcome.status})` : '';
      throw new CallToolError(
        request.type === 'refer' ? 'transfer_failed' : 'hangup_failed',
        `OpenAI refused the ${request.type}${status}`,
      );
    }
    return {};
  }
}
