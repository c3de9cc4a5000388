import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { checkBody, ControlPath, FakeCallState, parseControlPath } from './fake-call-state';
import { FakeSidebands } from './fake-sideband';

export interface RecordedRequest {
  method: string;
  path: string;
  authorization?: string;
  body: unknown;
  /** ms since the epoch when the request arrived. */
  at: number;
  /** The client closed the connection before an answer came (it gave up on a hanging reply). */
  abortedByClient?: boolean;
  /** The surface, call id and verb of a call-control path (undefined for any other path). */
  control?: ControlPath;
}

/**
 * How the fake answers one request: a status (and body), after `delayMs` or once `until`
 * settles, or `hang` to never answer.
 */
export type Reply =
  { status: number; body?: unknown; delayMs?: number; until?: Promise<unknown> } | 'hang';

/**
 * A small HTTP server on loopback standing in for OpenAI's call control API, on both surfaces
 * (`/v1/realtime/calls/...` and `/v1/live/sessions/...`). It records every request and answers
 * from a script, else as OpenAI would: a malformed body is 400, and a call announced with
 * `calls.offer()` follows OpenAI's rules (the first accept on either surface wins, the other
 * surface's accept fails with 409, a call that is gone answers 404 `call_id_not_found`).
 * Anything else is answered 200.
 */
export class FakeOpenAI {
  readonly requests: RecordedRequest[] = [];
  /** The pending calls OpenAI holds (see `FakeCallState`). */
  readonly calls = new FakeCallState();
  /** The sideband WebSockets of answered calls, on both surfaces (see `FakeSidebands`). */
  readonly sidebands = new FakeSidebands((id) => this.calls.isGone(id));
  private readonly script: Reply[] = [];
  private readonly hanging = new Set<ServerResponse>();
  private server!: Server;
  private waiters: (() => void)[] = [];
  private stopping = false;

  static async start(): Promise<FakeOpenAI> {
    const fake = new FakeOpenAI();
    fake.server = createServer((req, res) => fake.handle(req, res));
    fake.sidebands.attach(fake.server);
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  /** The base URL to give the SDK (`OPENAI_BASE_URL`). */
  get baseURL(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  /** The next requests are answered with these replies, in order; then 200 again. */
  reply(...replies: Reply[]): void {
    this.script.push(...replies);
  }

  /** Resolves once `count` requests have arrived (bounded by `timeoutMs`). */
  async waitForRequests(count: number, timeoutMs = 5000): Promise<RecordedRequest[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.requests.length < count) {
      if (Date.now() > deadline)
        throw new Error(`expected ${count} request(s), got ${this.requests.length}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.requests;
  }

  /** Requests that reached a call-control path of this surface. */
  on(surface: 'realtime' | 'live'): RecordedRequest[] {
    return this.requests.filter((request) => request.control?.surface === surface);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.sidebands.close();
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** OpenAI's own answer when no reply is scripted. */
  private answer(recorded: RecordedRequest): Reply {
    const path = recorded.control;
    if (!path) return { status: 404, body: { error: { message: `no route ${recorded.path}` } } };
    return checkBody(path, recorded.body) ?? this.calls.answer(path) ?? { status: 200 };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        authorization: req.headers.authorization,
        body: text ? (JSON.parse(text) as unknown) : undefined,
        at: Date.now(),
        control: parseControlPath(req.url ?? ''),
      };
      this.requests.push(recorded);
      for (const wake of this.waiters.splice(0)) wake();
      const reply = this.script.shift() ?? this.answer(recorded);
      if (reply === 'hang') {
        this.hanging.add(res);
        res.once('close', () => {
          if (!this.stopping) recorded.abortedByClient = true;
        });
        return;
      }
      // A success has an empty body (sent chunked, under a JSON content type: the client must
      // not need to parse it); an error is a JSON document.
      const answer = () => {
        res.writeHead(reply.status, { 'content-type': 'application/json' });
        if (reply.body !== undefined) res.write(JSON.stringify(reply.body));
        res.end();
        const control = recorded.control;
        // A hangup or transfer OpenAI carried out ends the call: its sideband closes after.
        if (
          control &&
          reply.status < 300 &&
          (control.verb === 'hangup' || control.verb === 'refer')
        )
          this.sidebands.endedByControl(control.id, control.verb);
      };
      if (reply.until) void reply.until.then(answer, answer);
      else setTimeout(answer, reply.delayMs ?? 0);
    });
  }
}
