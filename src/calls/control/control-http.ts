import * as http from 'node:http';
import * as https from 'node:https';

/**
 * What went wrong with one call-control request, worded as the official SDK words it (its
 * `APIError` messages), so that a recorded outcome reads the same: `404 Call not found`,
 * `Request timed out.`, `Connection error.`. `status` is absent for network errors and
 * timeouts; `error` is the `error` object of OpenAI's JSON answer, if any.
 */
export class CallControlError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly error?: { code?: unknown; message?: unknown },
  ) {
    super(message);
    this.name = 'CallControlError';
  }

  /** The SDK's `APIError.makeMessage`: the error's message, else its JSON, else the body text. */
  static fromAnswer(status: number, text: string): CallControlError {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const error = (json as { error?: CallControlError['error'] } | undefined)?.error;
    const raw = json === undefined ? text : undefined;
    const detail = error?.message
      ? typeof error.message === 'string'
        ? error.message
        : JSON.stringify(error.message)
      : error
        ? JSON.stringify(error)
        : raw;
    const message = detail ? `${status} ${detail}` : `${status} status code (no body)`;
    return new CallControlError(message, status, error ?? undefined);
  }
}

/** Not worth keeping more of an error answer: its message is cut to 500 characters anyway. */
const MAX_ERROR_BODY = 64 * 1024;
/**
 * A connection is reused while idle for less than this (or less than the server's own
 * `Keep-Alive: timeout=`, minus a second): fetch's default, so an idle connection is closed
 * by us before the server closes it under a request.
 */
const IDLE_SOCKET_MS = 4000;

export interface ControlHttpOptions {
  apiKey: string;
  /** e.g. `https://api.openai.com/v1`: the paths are appended to it. */
  baseURL: string;
  /**
   * Headers every request carries (organization, project, custom ones), lower-cased names:
   * they win over the auth header, as the SDK's `defaultHeaders` do.
   */
  headers?: Record<string, string>;
}

/**
 * A lean HTTP client for call control: one `POST` of a small JSON body over a kept-alive
 * connection (node's own `http`/`https` agent), answered by a status. In place of the SDK's
 * request machinery (undici's `fetch`, WHATWG Request/Response/Headers objects, an
 * `AbortController` per attempt), which cost about nine times the CPU per request and were a
 * third of a routed call's CPU (see the README's Benchmark section).
 */
export class ControlHttp {
  private readonly agent: http.Agent;
  private readonly request: typeof http.request;
  private readonly host: string;
  private readonly port: string;
  private readonly basePath: string;
  private readonly headers: Record<string, string>;

  constructor(options: ControlHttpOptions) {
    const base = new URL(options.baseURL);
    const secure = base.protocol === 'https:';
    if (!secure && base.protocol !== 'http:')
      throw new Error(`call control: the base URL must be http(s), not ${base.protocol}`);
    const agentOptions = { keepAlive: true, timeout: IDLE_SOCKET_MS, noDelay: true };
    this.agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.request = secure ? https.request : http.request;
    this.host = base.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = base.port;
    this.basePath = base.pathname.replace(/\/$/, '');
    this.headers = {
      'user-agent': 'Switchboard (call control)',
      authorization: `Bearer ${options.apiKey}`,
      ...options.headers,
      accept: '*/*',
    };
  }

  /**
   * POSTs `body` (as JSON; none for a bodiless verb) to the base URL + `path`. Resolves on any
   * 2xx, as soon as its status arrives (the answer's body, if any, is drained unread: it cannot
   * fail a success). Rejects with a `CallControlError` for another status, a network error, or
   * no answer within `timeoutMs`; with another error for a request that could not be built.
   */
  post(path: string, body: object | undefined, timeoutMs: number): Promise<void> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = {
      ...this.headers,
      'content-length': payload?.length ?? 0,
    };
    if (payload) headers['content-type'] = 'application/json';
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (error?: Error) => {
        if (settled) return;
        settled = true;
        if (error) reject(error);
        else resolve();
      };
      /** The answer's status, once it came, and the start of an error answer's body. */
      let status: number | undefined;
      let text = '';
      const req = this.request(
        {
          agent: this.agent,
          host: this.host,
          port: this.port,
          path: this.basePath + path,
          method: 'POST',
          headers,
        },
        (res) => {
          status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            res.resume();
            settle();
            return;
          }
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (text.length < MAX_ERROR_BODY) text += chunk;
          });
          // 'close' also comes when the connection drops mid-answer: the status is known.
          res.on('close', () => settle(CallControlError.fromAnswer(status!, text)));
        },
      );
      // The whole exchange, connecting included, within the attempt's time limit; it stays
      // armed after a 2xx until its body ends, so that an answer whose body never ends does
      // not hold a connection for ever. An error answer whose body never ends is its status.
      const timer = setTimeout(() => {
        settle(
          status === undefined
            ? new CallControlError('Request timed out.')
            : CallControlError.fromAnswer(status, text),
        );
        req.destroy();
      }, timeoutMs);
      req.on('close', () => clearTimeout(timer));
      req.on('error', (error: NodeJS.ErrnoException) =>
        settle(
          /timed? ?out/i.test(`${error.code} ${error.message}`)
            ? new CallControlError('Request timed out.')
            : new CallControlError('Connection error.'),
        ),
      );
      req.end(payload);
    });
  }
}
