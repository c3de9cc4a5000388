/** A store's answer to readiness: ready, or the problem in words an operator can act on. */
export type StoreReadiness = { ready: true } | { ready: false; problem: string };

/**
 * A store cannot serve now: its disk is full or failing, its file is read-only or locked, or the
 * file is corrupt. A request that needs it is answered 503 with this message (OpenAI retries a
 * delivery later), so nothing is acknowledged that was not stored. The message names the store
 * and the cause but not the file: answers carry no configuration; `file` is for logs.
 */
export class StoreUnavailableError extends Error {
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}
