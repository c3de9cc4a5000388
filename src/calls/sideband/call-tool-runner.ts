import type { SurfaceName } from '../surfaces/surface-name';

/**
 * What the sideband needs of the tools module (src/calls/tools/, `CallToolsService`): the
 * declarations of the tools a rule enables, and one run per function call. Provided under
 * `CALL_TOOL_RUNNER`; without a provider, calls are answered and run with no tools (a function
 * call the model makes anyway gets an `unknown_tool` output).
 */
export interface CallToolRunner {
  /** Function-tool declarations, in the session's `tools` format, of the named tools known. */
  declarations(
    names: string[],
  ): { type: 'function'; name: string; description?: string; parameters: unknown }[];
  has(name: string): boolean;
  /** Runs the tool once (validation, timeout); never throws: the outcome says what happened. */
  run(invocation: ToolInvocation, context: ToolRunnerContext): Promise<ToolRunnerResult>;
}

export const CALL_TOOL_RUNNER = Symbol('CALL_TOOL_RUNNER');

export interface ToolInvocation {
  tool_call_id: string;
  name: string;
  /** As the model sent it: JSON text. */
  arguments: string;
}

/** The call, as a tool handler sees it (the tools module's `CallToolContext`). */
export interface ToolRunnerContext {
  call_id: string;
  surface: SurfaceName;
  surface_call_id: string;
  from?: string;
  to?: string;
  sip_headers: { name: string; value: string }[];
  rule?: string;
  transfer_targets: string[];
  tool_call_id: string;
  signal: AbortSignal;
}

export interface ToolRunnerResult {
  outcome: 'ok' | 'invalid_arguments' | 'unknown_tool' | 'error' | 'timeout' | 'duplicate';
  /** JSON text sent to the model. */
  output: string;
  duration_ms: number;
}
