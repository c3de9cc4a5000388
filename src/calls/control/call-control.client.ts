import OpenAI from 'openai';
import { RenderedAction } from '../rules/route-action';
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

export type ControlRequest = RenderedAction | { type: 'hangup' };

/**
 * OpenAI's call control (`realtime.calls.accept/reject/refer/hangup`) through the official SDK,
 * with our own bounded retry (`withBoundedRetry`: every attempt and wait inside one deadline):
 * 5xx, 429, network errors and timeouts are retried with backoff, other 4xx are not, and 404
 * (the caller already hung up) is an answer, not an error.
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

  /** Sends the request; never throws. Undefined in dry mode. */
  async send(callId: string, request: ControlRequest): Promise<ControlOutcome | undefined> {
    const client = this.client;
    if (!client) return undefined;
    const result = await withBoundedRetry(
      this.policy,
      (timeoutMs) => this.perform(client, callId, request, timeoutMs),
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
  private async perform(
    client: OpenAI,
    callId: string,
    request: ControlRequest,
    timeoutMs: number,
  ): Promise<void> {
    // The SDK takes whole milliseconds; rounding down keeps the attempt inside the deadline.
    const timeout = Math.max(0, Math.floor(timeoutMs));
    const response = await this.call(client, callId, request, { timeout }).asResponse();
    await response.body?.cancel();
  }

  private call(
    client: OpenAI,
    callId: string,
    request: ControlRequest,
    options: OpenAI.RequestOptions,
  ) {
    const calls = client.realtime.calls;
    switch (request.type) {
      case 'accept':
        return calls.accept(
          callId,
          request.session as unknown as OpenAI.Realtime.CallAcceptParams,
          options,
        );
      case 'reject':
        return calls.reject(callId, { status_code: request.status_code }, options);
      case 'refer':
        return calls.refer(callId, { target_uri: request.target_uri }, options);
      case 'hangup':
        return calls.hangup(callId, options);
      default: {
        const unreachable: never = request;
        throw new Error(`unknown request ${JSON.stringify(unreachable)}`);
      }
    }
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
