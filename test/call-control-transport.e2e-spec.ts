import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { CallControlClient } from '../src/calls/control/call-control.client';
import { CallSurfaces } from '../src/calls/surfaces/call-surfaces';

/** One request as the server saw it, and how it answers: a status and a raw body. */
interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}
/** `endless`: the body is written, then never ended. */
type Answer = { status: number; body?: string; endless?: boolean } | 'hang';

/** A loopback server that records requests (headers included) and answers from a script. */
async function startServer(): Promise<{
  baseURL: string;
  seen: Seen[];
  answer: (...answers: Answer[]) => void;
  connections: () => number;
  closedConnections: () => number;
  stop: () => Promise<void>;
}> {
  const seen: Seen[] = [];
  const script: Answer[] = [];
  let connections = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const next = script.shift() ?? { status: 200 };
      if (next === 'hang') return;
      res.writeHead(next.status, { 'content-type': 'application/json' });
      if (next.endless) res.write(next.body ?? ' ');
      else res.end(next.body ?? '');
    });
  });
  let closedConnections = 0;
  server.on('connection', (socket) => {
    connections++;
    socket.on('close', () => closedConnections++);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    seen,
    answer: (...answers) => script.push(...answers),
    connections: () => connections,
    closedConnections: () => closedConnections,
    stop: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** How the previous transport (the official SDK) recorded a failed request. */
function describeAsTheSdkDid(error: unknown): { status?: number; error: string } {
  const apiError = error as InstanceType<typeof OpenAI.APIError>;
  const code = (apiError.error as { code?: string } | undefined)?.code;
  return {
    status: apiError.status,
    error: `${apiError.status ?? 'network'}${code ? ` ${code}` : ''}: ${apiError.message}`.slice(
      0,
      500,
    ),
  };
}

describe('call-control transport: lean keep-alive HTTP with the SDK’s auth, retries and error wording', () => {
  let server: Awaited<ReturnType<typeof startServer>>;

  beforeEach(async () => {
    server = await startServer();
  });
  afterEach(() => server.stop());

  it('sends the key, a JSON body and Accept */*; a hangup has no body; sequential requests share one connection', async () => {
    const surfaces = new CallSurfaces(
      new CallControlClient({ apiKey: 'sk-test', baseURL: server.baseURL }),
    );
    const realtime = surfaces.get('realtime');
    expect(await realtime.accept('rtc_1', { type: 'realtime', model: 'gpt-realtime' })).toEqual(
      expect.objectContaining({ ok: true, status: 200, attempts: 1 }),
    );
    await realtime.hangup('rtc_1');
    await surfaces.get('live').refer('live_1', 'tel:+14155550199');

    const [accept, hangup, refer] = server.seen;
    expect([accept.method, accept.url, JSON.parse(accept.body)]).toEqual([
      'POST',
      '/v1/realtime/calls/rtc_1/accept',
      { type: 'realtime', model: 'gpt-realtime' },
    ]);
    expect(accept.headers).toMatchObject({
      authorization: 'Bearer sk-test',
      'content-type': 'application/json',
      accept: '*/*',
    });
    expect([hangup.url, hangup.body, hangup.headers['content-length']]).toEqual([
      '/v1/realtime/calls/rtc_1/hangup',
      '',
      '0',
    ]);
    expect(hangup.headers['content-type']).toBeUndefined();
    expect([refer.url, JSON.parse(refer.body)]).toEqual([
      '/v1/live/sessions/live_1/refer',
      { target_uri: 'tel:+14155550199' },
    ]);
    expect(server.connections()).toBe(1);
  });

  it('adds OpenAI-Organization, OpenAI-Project and OPENAI_CUSTOM_HEADERS from the environment, as the SDK does', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      OPENAI_ORG_ID: 'org_1',
      OPENAI_PROJECT_ID: 'proj_1',
      OPENAI_CUSTOM_HEADERS: 'X-Team: voice\nX-Env: test',
    });
    try {
      const control = new CallControlClient({ apiKey: 'sk-test', baseURL: server.baseURL });
      await new CallSurfaces(control).get('realtime').reject('rtc_1', 486);
    } finally {
      process.env = saved;
    }
    expect(server.seen[0].headers).toMatchObject({
      'openai-organization': 'org_1',
      'openai-project': 'proj_1',
      'x-team': 'voice',
      'x-env': 'test',
    });
  });

  it('records every error answer in the words the SDK used (status, code, message)', async () => {
    const answers: { status: number; body?: string }[] = [
      {
        status: 404,
        body: '{"error":{"message":"Call not found","code":"call_id_not_found"}}',
      },
      {
        status: 409,
        body: '{"error":{"message":"accepted on live","code":"call_already_accepted"}}',
      },
      { status: 400, body: '{"error":{"message":{"field":"session"}}}' },
      { status: 400, body: '{"error":"plain string"}' },
      { status: 422, body: '{"detail":"no error key"}' },
      { status: 403, body: 'forbidden, as text' },
      { status: 401 },
    ];
    const sdk = new OpenAI({ apiKey: 'sk-test', baseURL: server.baseURL, maxRetries: 0 });
    const ours = new CallSurfaces(
      new CallControlClient({ apiKey: 'sk-test', baseURL: server.baseURL }),
    ).get('realtime');
    for (const answer of answers) {
      server.answer(answer);
      const expected = await sdk.realtime.calls
        .accept('rtc_1', { type: 'realtime' })
        .then(() => ({ error: 'no error' }), describeAsTheSdkDid);
      server.answer(answer);
      const outcome = await ours.accept('rtc_1', { type: 'realtime' });
      expect({ status: outcome?.status, error: outcome?.error }).toEqual(expected);
      expect(outcome).toMatchObject({ ok: false, attempts: 1 });
    }
  });

  it('retries 5xx and 429 within the deadline, and a network error reads as the SDK’s did', async () => {
    const control = new CallControlClient({
      apiKey: 'sk-test',
      baseURL: server.baseURL,
      retryBaseMs: 10,
    });
    server.answer({ status: 503, body: '{"error":{"message":"busy"}}' }, { status: 429 });
    const retried = await new CallSurfaces(control).get('live').reject('live_1', 603);
    expect(retried).toMatchObject({ ok: true, attempts: 3 });

    server.answer({ status: 500 }, { status: 500 }, { status: 500 });
    const failed = await new CallSurfaces(control).get('live').reject('live_1', 603);
    expect(failed).toMatchObject({
      ok: false,
      status: 500,
      attempts: 3,
      error: '500: 500 status code (no body)',
    });

    await server.stop();
    const refused = await new CallSurfaces(control).get('realtime').hangup('rtc_1');
    expect(refused).toMatchObject({ ok: false, attempts: 3, error: 'network: Connection error.' });
    expect(refused?.status).toBeUndefined();
    server = await startServer(); // for afterEach
  });

  it('gives an attempt that is not answered its time limit, then retries, all inside the deadline', async () => {
    server.answer('hang', 'hang', 'hang');
    const control = new CallControlClient({
      apiKey: 'sk-test',
      baseURL: server.baseURL,
      attemptTimeoutMs: 150,
      retryBaseMs: 10,
      deadlineMs: 1000,
    });
    const outcome = await new CallSurfaces(control).get('realtime').reject('rtc_1', 603);
    expect(outcome).toMatchObject({
      ok: false,
      attempts: 3,
      error: 'network: Request timed out.',
    });
    expect(outcome?.status).toBeUndefined();
    expect(server.seen).toHaveLength(3);
  });

  it('refuses an id that would make a dot segment, as the SDK did, without sending anything', async () => {
    const control = new CallControlClient({ apiKey: 'sk-test', baseURL: server.baseURL });
    const outcome = await new CallSurfaces(control).get('realtime').hangup('..');
    expect(outcome).toMatchObject({ ok: false, attempts: 1 });
    expect(outcome?.error).toContain("can't be safely passed as a path parameter");
    expect(server.seen).toHaveLength(0);
  });

  it('an error answer whose body never ends is recorded by its status, not as a timeout, and not retried', async () => {
    server.answer({ status: 400, body: '{"error":{"message":"bad session"}}', endless: true });
    const control = new CallControlClient({
      apiKey: 'sk-test',
      baseURL: server.baseURL,
      attemptTimeoutMs: 150,
      retryBaseMs: 10,
    });
    const outcome = await new CallSurfaces(control).get('realtime').reject('rtc_1', 603);
    expect(outcome).toMatchObject({
      ok: false,
      status: 400,
      attempts: 1,
      error: '400: 400 bad session',
    });
    expect(server.seen).toHaveLength(1);
  });

  it('a 2xx whose body never ends is a success, and its connection is let go at the time limit', async () => {
    server.answer({ status: 200, body: '{', endless: true });
    const control = new CallControlClient({
      apiKey: 'sk-test',
      baseURL: server.baseURL,
      attemptTimeoutMs: 150,
    });
    const outcome = await new CallSurfaces(control).get('realtime').reject('rtc_1', 603);
    expect(outcome).toMatchObject({ ok: true, attempts: 1 });
    // Not held for ever (until the server gives up): closed by us after the attempt's limit.
    for (let i = 0; i < 100 && server.closedConnections() === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(server.closedConnections()).toBe(1);
  });
});
