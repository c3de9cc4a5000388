import OpenAI from 'openai';
import { RenderedAction } from '../rules/route-action';
import { ControlOutcome } from '../store/call-store';

export interface CallControlOptions {
  /** Unset: dry mode, nothing is sent. */
  apiKey?: string;
  baseURL?: string;
  /** One request's time limit. Default 2000 ms. */
  attemptTimeoutMs?: number;
  /** Attempts in all, for 5xx, 429, network errors and timeouts. Default 3. */
  maxAttempts?: number;
  /** First retry delay; doubles, with jitter. Default 100 ms. */
  retryBaseMs?: number;
  /** No attempt starts after this much time since the first. Default 6000 ms: the caller is waiting. */
  deadlineMs?: number;
}

export type ControlRequest = RenderedAction | { type: 'hangup' };

/**
 * OpenAI's call control (`realtime.calls.accept/reject/refer/hangup`) through the official SDK,
 * with our own bounded retry: 5xx, 429 and network errors are retried with backoff, other 4xx
 * are not, and 404 (the caller already hung up) is an answer, not an error.
 */
export class CallControlClient {
  private readonly client?: OpenAI;
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private readonly deadlineMs: number;

  constructor(options: CallControlOptions) {
    this.maxAttempts = options.maxAttempts ?? 3;
    this.retryBaseMs = options.retryBaseMs ?? 100;
    this.deadlineMs = options.deadlineMs ?? 6000;
    if (options.apiKey) {
      this.client = new OpenAI({
        apiKey: options.apiKey,
        baseURL: options.baseURL,
        maxRetries: 0, // retries are ours: bounded by the caller's patience, and recorded
        timeout: options.attemptTimeoutMs ?? 2000,
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
    const started = Date.now();
    let attempts = 0;
    for (;;) {
      attempts += 1;
      try {
        await this.perform(client, callId, request);
        return { ok: true, status: 200, attempts, duration_ms: Date.now() - started };
      } catch (error) {
        const status = error instanceof OpenAI.APIError ? error.status : undefined;
        const retryable = status === undefined || status === 429 || status >= 500;
        const wait = Math.round(this.retryBaseMs * 2 ** (attempts - 1) * (0.5 + Math.random() / 2));
        const outOfTime = Date.now() - started + wait >= this.deadlineMs;
        if (!retryable || attempts >= this.maxAttempts || outOfTime) {
          return {
            ok: false,
            status,
            attempts,
            error: describe(error),
            duration_ms: Date.now() - started,
          };
        }
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  /** Resolves on any 2xx: the answer's body (if any) is not parsed, so it cannot fail a success. */
  private async perform(client: OpenAI, callId: string, request: ControlRequest): Promise<void> {
    const response = await this.call(client, callId, request).asResponse();
    await response.body?.cancel();
  }

  private call(client: OpenAI, callId: string, request: ControlRequest) {
    const calls = client.realtime.calls;
    switch (request.type) {
      case 'accept':
        return calls.accept(callId, request.session as unknown as OpenAI.Realtime.CallAcceptParams);
      case 'reject':
        return calls.reject(callId, { status_code: request.status_code });
      case 'refer':
        return calls.refer(callId, { target_uri: request.target_uri });
      case 'hangup':
        return calls.hangup(callId);
      default: {
        const unreachable: never = request;
        throw new Error(`unknown request ${JSON.stringify(unreachable)}`);
      }
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof OpenAI.APIError) {
    const code = (error.error as { code?: string } | undefined)?.code;
    return `${error.status ?? 'network'}${code ? ` ${code}` : ''}: ${error.message}`.slice(0, 500);
  }
  return String((error as Error)?.message ?? error).slice(0, 500);
}
