/** How long a `@CallTool` handler may run unless its tool or the module says otherwise. */
export const DEFAULT_TOOL_TIMEOUT_MS = 10_000;
