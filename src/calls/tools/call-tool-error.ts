/**
 * Thrown by a `@CallTool` handler to tell the model what went wrong in its own words: the
 * output is `{"error": code, "message": message}` (any other error is `tool_failed`).
 *
 * @example throw new CallToolError('order_not_found', `no order ${args.order_id}`);
 */
export class CallToolError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CallToolError';
  }
}

/**
 * A `@CallTool` that cannot be offered as it is written (two tools of one name, arguments whose
 * schema cannot be derived): the application does not start, and the message says which.
 */
export class CallToolDefinitionError extends Error {
  override name = 'CallToolDefinitionError';
}
