import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The tool call a piece of work runs for. A built-in tool (`transfer_call`, `end_call`) goes
 * through the operators' hangup/refer path; reading this there records the action as the
 * tool's (`by: 'tool'`), with no change to what the tool calls.
 */
export const toolScope = new AsyncLocalStorage<{ call_id: string; tool_call_id: string }>();
