import { ControlOutcome } from '../store/call-store';
import { RetryPolicy, withBoundedRetry } from './bounded-retry';
import { CallControlError, ControlHttp } from './control-http';
import { openaiRequestSettings } from './openai-settings';

export interface CallControlOptions {
  /** Unset: dry mode, nothing is sent. */
  apiKey?: string;
  /** Default: `OPENAI_BASE_URL`, else `https://api.openai.com/v1` (as the SDK reads them). */
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
 * One call-control request, as a surface builds it: `POST {base URL}{resource}/{id}/{verb}`
 * with the JSON body, if the verb has one. Sent again as it is on a retry.
 */
export interface ControlCall {
  /** e.g. `/realtime/calls` or `/live/sessions`. */
  resource: string;
  /** The call's id on that surface: escaped into the path. */
  id: string;
  /**
   * How the id is escaped: `path` as the SDK's typed methods do (all but RFC 3986 path
   * characters), `component` as `encodeURIComponent` does (the Live surface, as before).
   */
  escape: 'path' | 'component';
  verb: ControlVerb;
  body?: object;
}

export type ControlVerb = 'accept' | 'reject' | 'refer' | 'hangup';

/**
 * The transport of OpenAI's call control, whatever the surface: a lean keep-alive HTTP client
 * (`ControlHttp`) with the SDK's auth headers and error wording, and our own bounded retry
 * (`withBoundedRetry`: every attempt and wait inside one deadline): 5xx, 429, network errors
 * and timeouts are retried with backoff, other 4xx are not, and 404 (the caller already hung
 * up) is an answer, not an error. What to send is the surface's business (`src/calls/surfaces`).
 */
export class CallControlClient {
  private readonly http?: ControlHttp;
  private readonly policy: RetryPolicy;

  constructor(options: CallControlOptions) {
    this.policy = {
      attemptTimeoutMs: options.attemptTimeoutMs ?? 2000,
      maxAttempts: options.maxAttempts ?? 3,
      retryBaseMs: options.retryBaseMs ?? 100,
      deadlineMs: options.deadlineMs ?? 6000,
    };
    if (options.apiKey) {
      const settings = openaiRequestSettings(options.baseURL);
      this.http = new ControlHttp({ apiKey: options.apiKey, ...settings });
    }
  }

  get dryRun(): boolean {
    return this.http === undefined;
  }

  /** Makes the request; never throws. Undefined in dry mode. */
  async execute(call: ControlCall): Promise<ControlOutcome | undefined> {
    const http = this.http;
    if (!http) return undefined;
    const result = await withBoundedRetry(
      this.policy,
      // Whole milliseconds, rounded down: the attempt stays inside the deadline.
      async (timeoutMs) => http.post(pathOf(call), call.body, Math.max(0, Math.floor(timeoutMs))),
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
}

/**
 * The request's path, its id escaped; an id that would make a `.` or `..` segment is refused,
 * as the SDK's path helper refuses it: an outcome, not a request to another path.
 */
function pathOf(call: ControlCall): string {
  const id =
    call.escape === 'component'
      ? encodeURIComponent(call.id)
      : call.id.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@]+/g, encodeURIComponent);
  if (/^(?:\.|%2e){1,2}$/i.test(id))
    throw new Error(`Value "${id}" can't be safely passed as a path parameter`);
  return `${call.resource}/${id}/${call.verb}`;
}

/** 5xx, 429, network errors and timeouts are worth another try; other answers are final. */
function isRetryable(error: unknown): boolean {
  if (!(error instanceof CallControlError)) return false; // our own mistake: it would recur
  const status = error.status;
  return status === undefined || status === 429 || status >= 500;
}

function statusOf(error: unknown): number | undefined {
  return error instanceof CallControlError ? error.status : undefined;
}

function describe(error: unknown): string {
  if (error instanceof CallControlError) {
    const code = error.error?.code;
    return `${error.status ?? 'network'}${code ? ` ${String(code)}` : ''}: ${error.message}`.slice(
      0,
      500,
    );
  }
  return String((error as Error)?.message ?? error).slice(0, 500);
}
