import type { SurfaceName } from '../surfaces/surface-name';

/**
 * What a `@CallTool` handler learns about the call it serves: the call's ids, the caller's
 * facts, the route that answered it, and an `AbortSignal` that aborts when the tool's time is
 * up (or when the caller of `run()` gives up, e.g. because the call ended).
 */
export interface CallToolContext {
  /** The call record's name (`GET /calls/:id`). */
  call_id: string;
  /** The surface that answered the call. */
  surface: SurfaceName;
  /** The call's id on that surface (`rtc_...` or `live_...`). */
  surface_call_id: string;
  from?: string;
  to?: string;
  sip_headers: { name: string; value: string }[];
  /** The id of the rule that accepted the call. */
  rule?: string;
  /** What `transfer_call` may refer the call to (the rule's `transfer_targets`). */
  transfer_targets: string[];
  /** OpenAI's id of this function call: each one runs exactly once. */
  tool_call_id: string;
  /** Aborts when the tool times out or the caller of `run()` aborts its own signal. */
  signal: AbortSignal;
}

/**
 * The context `run()` needs: a `CallToolContext` without the parts `run()` supplies itself
 * (the tool call's id comes from the invocation; the signal is linked to the timeout).
 */
export type CallToolRunContext = Omit<CallToolContext, 'tool_call_id' | 'signal'> & {
  tool_call_id?: string;
  /** Aborting it aborts the handler's signal too (the call ended, say). */
  signal?: AbortSignal;
  /**
   * The tools this call offers (the rule's `call_tools`). When given, a call of any other tool,
   * registered or not, is answered `unknown_tool`: the model cannot reach a tool the rule did
   * not enable.
   */
  offered?: readonly string[];
};

/** A function call as the model made it: `arguments` is the JSON text the model wrote. */
export interface CallToolInvocation {
  tool_call_id: string;
  name: string;
  arguments: string;
}

/** A function tool as declared to the model, in the session config of either surface. */
export interface CallToolDeclaration {
  type: 'function';
  name: string;
  description: string;
  /** JSON schema of the arguments, derived from the handler's DTO. */
  parameters: Record<string, unknown>;
}

export type ToolRunOutcome =
  'ok' | 'invalid_arguments' | 'unknown_tool' | 'error' | 'timeout' | 'duplicate';

export interface ToolRunResult {
  outcome: ToolRunOutcome;
  /** JSON text to send to the model as the `function_call_output`. */
  output: string;
  duration_ms: number;
}

/** What the sideband needs of the tools: declare them, and run one function call. */
export interface CallToolRunner {
  /** Declarations of the named tools, in order; names no handler has are left out. */
  declarations(names: string[]): CallToolDeclaration[];
  has(name: string): boolean;
  /** Never throws: every failure is an outcome with an output for the model. */
  run(invocation: CallToolInvocation, ctx: CallToolRunContext): Promise<ToolRunResult>;
}

/** Injection token of the `CallToolRunner` (provided by `CallsModule` as `CallToolsService`). */
export const CALL_TOOL_RUNNER = Symbol('CALL_TOOL_RUNNER');
