import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { LogLine } from '../../common/log-line';
import { CALLS_MODULE_OPTIONS } from '../calls.module-definition';
import type { CallsModuleOptions } from '../calls.options';
import { CallToolError } from './call-tool-error';
import {
  CallToolContext,
  CallToolDeclaration,
  CallToolInvocation,
  CallToolRunContext,
  CallToolRunner,
  ToolRunOutcome,
  ToolRunResult,
} from './call-tool-runner';
import { CallToolRegistry, RegisteredTool } from './call-tool.registry';
import { readToolArguments } from './tool-arguments';
import { DEFAULT_TOOL_TIMEOUT_MS } from './tool-timeout';

/** Tool calls remembered for `duplicate` (the oldest are forgotten first). */
const REMEMBERED_RUNS = 10_000;
const MAX_MESSAGE_LENGTH = 1000;
/**
 * The longest output sent back to the model. A larger result (a whole table, a file) would
 * exceed what a model's turn takes, and a sideband frame OpenAI refuses would be resent on every
 * reconnect; the model is told instead, and the record keeps that.
 */
export const MAX_TOOL_OUTPUT_CHARS = 100_000;
const TIMED_OUT = Symbol('timed out');

/**
 * Declares the `@CallTool` handlers to the model and runs the model's function calls through
 * them: arguments parsed and validated against the tool's DTO, a timeout that aborts the
 * handler's signal, each tool call id run once. Never throws: whatever happens is an outcome
 * and a JSON output the model can read. One log line per run.
 */
@Injectable()
export class CallToolsService implements CallToolRunner {
  private readonly logger = new Logger('CallTools');
  private readonly timeoutMs: number;
  /** Runs by call and tool call id, so that a repeated id gets the first run's output. */
  private readonly runs = new Map<string, Promise<ToolRunResult>>();

  constructor(
    private readonly registry: CallToolRegistry,
    @Optional() @Inject(CALLS_MODULE_OPTIONS) options?: CallsModuleOptions,
  ) {
    this.timeoutMs = options?.toolTimeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS;
  }

  /** The named tools as function declarations for a session config; unknown names are left out. */
  declarations(names: string[]): CallToolDeclaration[] {
    return names.flatMap((name) => {
      const tool = this.registry.get(name);
      if (!tool) return [];
      const { description, parameters } = tool;
      return [{ type: 'function' as const, name, description, parameters }];
    });
  }

  has(name: string): boolean {
    return this.registry.get(name) !== undefined;
  }

  /** Names of every registered tool. */
  names(): string[] {
    return this.registry.names();
  }

  async run(invocation: CallToolInvocation, ctx: CallToolRunContext): Promise<ToolRunResult> {
    const started = performance.now();
    const key = `${ctx.call_id}\u0000${invocation.tool_call_id}`;
    const first = this.runs.get(key);
    if (first) {
      const { output } = await first;
      return this.finish(invocation, ctx, started, 'duplicate', output);
    }
    const running = this.runOnce(invocation, ctx, started);
    // Without an id there is nothing to know a repeat by.
    if (invocation.tool_call_id) {
      this.runs.set(key, running);
      if (this.runs.size > REMEMBERED_RUNS) this.runs.delete(this.runs.keys().next().value!);
    }
    return running;
  }

  private async runOnce(
    invocation: CallToolInvocation,
    ctx: CallToolRunContext,
    started: number,
  ): Promise<ToolRunResult> {
    const finish = (outcome: ToolRunOutcome, output: string, error?: string) =>
      this.finish(invocation, ctx, started, outcome, output, error);
    const { name } = invocation;
    const tool = ctx.offered && !ctx.offered.includes(name) ? undefined : this.registry.get(name);
    if (!tool) {
      const offered = ctx.offered ?? this.registry.names();
      return finish(
        'unknown_tool',
        json({
          error: 'unknown_tool',
          message: `no tool named "${String(name).slice(0, 100)}" on this call; the tools are: ${offered.join(', ') || '(none)'}`,
        }),
      );
    }
    const read = await readToolArguments(String(invocation.arguments ?? ''), tool.dto);
    if (!read.ok) {
      return finish(
        'invalid_arguments',
        json({ error: 'invalid_arguments', problems: read.problems }),
      );
    }
    return this.invoke(tool, read.args, invocation, ctx, finish);
  }

  /** Calls the handler, bounded by the tool's timeout; its result or failure as an output. */
  private async invoke(
    tool: RegisteredTool,
    args: object,
    invocation: CallToolInvocation,
    ctx: CallToolRunContext,
    finish: (outcome: ToolRunOutcome, output: string, error?: string) => ToolRunResult,
  ): Promise<ToolRunResult> {
    const timeoutMs = tool.timeoutMs ?? this.timeoutMs;
    const controller = new AbortController();
    const callerAborted = () => controller.abort(ctx.signal?.reason);
    if (ctx.signal?.aborted) callerAborted();
    else ctx.signal?.addEventListener('abort', callerAborted, { once: true });
    // The handler sees the call's facts, this tool call's id and a signal of its own.
    const { offered: _offered, signal: _signal, ...facts } = ctx;
    const handlerCtx: CallToolContext = {
      ...facts,
      tool_call_id: invocation.tool_call_id,
      signal: controller.signal,
    };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
    });
    try {
      const work = Promise.resolve().then(() => tool.invoke(args, handlerCtx));
      // Past the timeout nobody awaits it: its late failure must not be an unhandled rejection.
      work.catch(() => undefined);
      const settled = await Promise.race([work.then((value) => ({ value })), timedOut]);
      if (settled === TIMED_OUT) {
        const message = `${tool.name} did not finish within ${timeoutMs} ms`;
        controller.abort(new DOMException(message, 'TimeoutError'));
        return finish('timeout', json({ error: 'timeout', message }));
      }
      const output = outputOf(settled.value);
      if (output.length > MAX_TOOL_OUTPUT_CHARS) {
        const message = `${tool.name} returned ${output.length} characters; at most ${MAX_TOOL_OUTPUT_CHARS} go back to the model`;
        return finish('error', json({ error: 'output_too_large', message }), message);
      }
      return finish('ok', output);
    } catch (error) {
      const output = errorOutput(error);
      return finish('error', json(output), output.message);
    } finally {
      clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', callerAborted);
    }
  }

  private finish(
    invocation: CallToolInvocation,
    ctx: CallToolRunContext,
    started: number,
    outcome: ToolRunOutcome,
    output: string,
    error?: string,
  ): ToolRunResult {
    const duration_ms = Math.round((performance.now() - started) * 10) / 10;
    const line = new LogLine('call tool ran', {
      call_id: ctx.call_id,
      // The model chose these: bounded, so that a runaway name cannot flood the log.
      tool: String(invocation.name).slice(0, 100),
      tool_call_id: String(invocation.tool_call_id).slice(0, 100),
      outcome,
      duration_ms,
      error: error?.slice(0, 200),
    });
    if (outcome === 'ok' || outcome === 'duplicate') this.logger.log(line);
    else this.logger.warn(line);
    return { outcome, output, duration_ms };
  }
}

/** A string as it is; anything else as JSON; nothing (a void handler) as `{"ok":true}`. */
function outputOf(value: unknown): string {
  if (typeof value === 'string') return value;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new Error(`its result cannot be written as JSON: ${(error as Error).message}`);
  }
  return text ?? json({ ok: true });
}

/** What the model is told of a failure: the message, never a stack. */
function errorOutput(error: unknown): { error: string; message: string } {
  const message = (error instanceof Error ? error.message : String(error)).slice(
    0,
    MAX_MESSAGE_LENGTH,
  );
  return error instanceof CallToolError
    ? { error: error.code, message }
    : { error: 'tool_failed', message };
}

function json(value: object): string {
  return JSON.stringify(value);
}
