import { Type } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { CallToolContext } from './call-tool-runner';

export interface CallToolOptions {
  /** What the tool does and when to call it: the model reads it to decide. */
  description?: string;
  /**
   * How long a run may take before the model is told it timed out and the handler's
   * `ctx.signal` aborts. Default: the calls module's `toolTimeoutMs` (`CALL_TOOL_TIMEOUT_MS`,
   * 10,000 ms).
   */
  timeoutMs?: number;
  /**
   * The arguments' DTO class, when the method's first parameter type cannot say it (plain
   * JavaScript, or a build without `emitDecoratorMetadata`). Default: that parameter's type.
   */
  args?: Type<object>;
}

export interface CallToolMetadata extends CallToolOptions {
  name: string;
}

/** OpenAI's rule for function names. */
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

const CallToolDecorator = DiscoveryService.createDecorator<CallToolMetadata>();

/** The shape of a tool handler: its arguments' DTO, and the call it serves. */
export type CallToolMethod = (args: never, ctx: CallToolContext) => unknown;

/**
 * Marks a provider method as the function tool `name`, which a routing rule offers to the
 * model by name (`call_tools: [name]` inside `accept`). The method receives the model's
 * arguments as an instance of its first parameter's class, validated with class-validator
 * (invalid arguments are answered to the model, the method is not called), and a
 * `CallToolContext`; what it returns (a string as it is, anything else as JSON) is the output
 * the model gets. The tool's JSON schema is derived from that class: declared once, in code.
 *
 * @example
 * ```ts
 * class LookupOrderArgs {
 *   @ToolParam({ description: 'The order number, e.g. A1234' })
 *   @Matches(/^A\d{4}$/)
 *   order_id!: string;
 * }
 *
 * @Injectable()
 * export class OrderTools {
 *   @CallTool('lookup_order', { description: 'Finds an order by its number' })
 *   async lookupOrder(args: LookupOrderArgs, ctx: CallToolContext) {
 *     return { order_id: args.order_id, status: 'shipped' };
 *   }
 * }
 * ```
 */
export function CallTool(
  name: string,
  options: CallToolOptions = {},
): <M extends CallToolMethod>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => void {
  if (typeof name !== 'string' || !TOOL_NAME.test(name)) {
    throw new Error(
      `@CallTool: "${String(name)}" is not a tool name (1 to 64 letters, digits, _ or -)`,
    );
  }
  const { timeoutMs } = options;
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new Error(`@CallTool('${name}'): timeoutMs must be a positive number (got ${timeoutMs})`);
  }
  const decorate = CallToolDecorator({
    name,
    description: options.description,
    timeoutMs,
    args: options.args,
  });
  return (target, propertyKey, descriptor) => {
    decorate(target, propertyKey, descriptor);
  };
}

CallTool.KEY = CallToolDecorator.KEY;
CallTool.discoverable = CallToolDecorator;
