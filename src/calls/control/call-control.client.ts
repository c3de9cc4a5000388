import OpenAI from 'openai';
import { ControlOutcome } from '../store/call-store';
import { RetryPolicy, withBoundedRetry } from './bounded-retry';

export interface CallControlOptions {
  /** Unset: dry mode, nothing is sent. */
  apiKey?: string;
  baseURL?: string;
  /** One request's time limit, when the deadline leaves that much. Default 2000 ms. */
  attemptTimeoutMs?: number;
  /** Attempts in all, for 5xx, 429, network errors and timeouts. Default 3. */
  maxAttempts?: number;
  /** Nominal first retry delay; doubles; each wait is half to all of it. Default 100 ms. */
  retryBaseMs?: number;
  /**
   * Everything (attempts and waits) ends this long after the first attempt started: each
   * attempt's time limit is cut to what is left. Default 6000 ms: the caller is waiting.
   */
  deadlineMs?: number;
}

/**
 * One call-control request, as a surface builds it: the SDK call to make (a typed method, or the
 * SDK's generic `client.post` for a surface the SDK does not type yet), with the options the
 * transport gives each attempt (its time limit). Made again on a retry.
 */
export type ControlCall = (
  client: OpenAI,
  options: OpenAI.RequestOptions,
) => { asResponse(): Promise<Response> };

/**
 * The transport of OpenAI's call control, whatever the surface: the official SDK's auth,
 * errors and connection, with our own bounded retry (`withBoundedRetry`: every attempt and
 * wait inside one deadline): 5xx, 429, network errors and timeouts are retried with backoff,
 * other 4xx are not, and 404 (the caller already hung up) is an answer, not an error. What to
 * send is the surface's business (`src/calls/surfaces`).
 */
export class CallControlClient {
  private readonly client?: OpenAI;
  private readonly policy: RetryPolicy;

  constructor(options: CallControlOptions) {
    this.policy = {
      attemptTimeoutMs: options.attemptTimeoutMs ?? 2000,
      maxAttempts: options.maxAttempts ?? 3,
      retryBaseMs: options.retryBaseMs ?? 100,
      deadlineMs: options.deadlineMs ?? 6000,
    };
    if (options.apiKey) {
      this.client = new OpenAI({
        apiKey: options.apiKey,
        baseURL: options.baseURL,
        maxRetries: 0, // retries are ours: bounded by the caller's patience, and recorded
      });
    }
  }

  get dryRun(): boolean {
    return this.client === undefined;
  }

  /** Makes the request; never throws. Undefined in dry mode. */
  async execute(call: ControlCall): Promise<ControlOutcome | undefined> {
    const client = this.client;
    if (!client) return undefined;
    const result = await withBoundedRetry(
      this.policy,
      (timeoutMs) => this.perform(client, call, timeoutMs),
      isRetryable,
    );
    const duration_ms = Math.round(result.durationMs);
    if (result.ok) return { ok: true, status: 200, attempts: result.attempts, duration_ms };
    return {
      ok: false,
      status: statusOf(result.error),
      attempts: result.attempts,
      error: describe(result.error),
      duration_ms,
    };
  }

  /** Resolves on any 2xx: the answer's body (if any) is not parsed, so it cannot fail a success. */
  private async perform(client: OpenAI, call: ControlCall, timeoutMs: number): Promise<void> {
    // The SDK takes whole milliseconds; rounding down keeps the attempt inside the deadline.
    const timeout = Math.max(0, Math.floor(timeoutMs));
    const response = await call(client, { timeout }).asResponse();
    await response.body?.cancel();
  }
}

/** 5xx, 429, network errors and timeouts are worth another try; other answers are final. */
function isRetryable(error: unknown): boolean {
  if (!(error instanceof OpenAI.APIError)) return false; // our own mistake: it would recur
  const status = error.status;
  return status === undefined || status === 429 || status >= 500;
}

function statusOf(error: unknown): number | undefined {
  return error instanceof OpenAI.APIError ? error.status : undefined;
}

function describe(error: unknown): string {
  if (error instanceof OpenAI.APIError) {
    const code = (error.error as { code?: string } | undefined)?.code;
    return `${error.status ?? 'network'}${code ? ` ${code}` : ''}: ${error.message}`.slice(0, 500);
  }
  return String((error as Error)?.message ?? error).slice(0, 500);
}
