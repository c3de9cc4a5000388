import { mkdtempSync, rmSync } from 'node:fs';
import { connect, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallsModule } from '../src/calls/calls.module';
import { SqliteCallStore } from '../src/calls/store/sqlite-call-store';
import { ServiceProcess, startService } from './support/service-process';
import { createTestApp, eventually, TestApp } from './support/test-app';

const TOKEN = 'body-limits-admin-token';
const LIMIT = 64 * 1024;
const TIMEOUT_MS = 300;

/**
 * A client on a raw socket that behaves like an attacker: it sends what it likes, when it
 * likes, and records what came back and how much of its own data it got out.
 */
class RawClient {
  readonly socket: Socket;
  private received = '';
  written = 0;
  /** How much had been written when the response's status line arrived. */
  writtenWhenAnswered?: number;
  closed = false;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('data', (chunk) => {
      this.received += chunk.toString('latin1');
      if (this.writtenWhenAnswered === undefined && /^HTTP\/1\.1 \d{3}/.test(this.received)) {
        this.writtenWhenAnswered = this.written;
      }
    });
    this.socket.on('error', () => undefined); // a reset while sending is part of the story
    this.socket.on('close', () => (this.closed = true));
  }

  get response(): string {
    return this.received;
  }

  /** Writes and waits until the socket takes more (false: the server closed it meanwhile). */
  async write(data: string | Buffer): Promise<boolean> {
    if (this.closed || this.socket.destroyed) return false;
    const more = this.socket.write(data);
    this.written += Buffer.byteLength(data);
    if (more) return true;
    return new Promise((resolve) => {
      const done = (open: boolean) => {
        this.socket.off('drain', onDrain);
        this.socket.off('close', onClose);
        resolve(open);
      };
      const onDrain = () => done(true);
      const onClose = () => done(false);
      this.socket.once('drain', onDrain);
      this.socket.once('close', onClose);
    });
  }

  /** Waits (bounded) until the server answered and closed the connection. */
  async answeredAndClosed(): Promise<{ status: number; headers: string; body: string }> {
    await eventually(() => {
      expect(this.received).toMatch(/^HTTP\/1\.1 \d{3}/);
      expect(this.closed).toBe(true);
    }, 10_000);
    const [head, body] = this.received.split('\r\n\r\n');
    return { status: Number(head.slice(9, 12)), headers: head.toLowerCase(), body };
  }

  destroy(): void {
    this.socket.destroy();
  }
}

const ROUTES = [
  { name: 'the webhook endpoint', path: '/webhooks/openai' },
  { name: 'the rules API', path: '/rules/evaluate' },
];

describe('request bodies: bounded in size and in time, refused as early as possible', () => {
  let t: TestApp;
  const serverSockets: Socket[] = [];
  const clients: RawClient[] = [];

  beforeEach(async () => {
    t = await createTestApp({
      listen: true,
      options: { adminToken: TOKEN, maxBodyBytes: LIMIT, bodyTimeoutMs: TIMEOUT_MS },
      imports: [
        CallsModule.forRoot({
          store: new SqliteCallStore(':memory:'),
          maxBodyBytes: LIMIT,
          bodyTimeoutMs: TIMEOUT_MS,
        }),
      ],
    });
    t.app.getHttpServer().on('connection', (socket: Socket) => serverSockets.push(socket));
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    serverSockets.length = 0;
    await t.close();
  });

  function client(): RawClient {
    const raw = new RawClient(t.port);
    clients.push(raw);
    return raw;
  }

  const head = (path: string, headers: string[]) =>
    [
      `POST ${path} HTTP/1.1`,
      'Host: 127.0.0.1',
      'Content-Type: application/json',
      `Authorization: Bearer ${TOKEN}`,
      ...headers,
      '',
      '',
    ].join('\r\n');

  describe.each(ROUTES)('$name', ({ path }) => {
    it('answers 413 to a declared 5 MiB at once, without the body being sent, and closes', async () => {
      const raw = client();
      await raw.write(head(path, ['Content-Length: 5242880']));
      const answer = await raw.answeredAndClosed();
      expect(answer.status).toBe(413);
      expect(answer.headers).toContain('connection: close');
      expect(JSON.parse(answer.body).message).toContain(`limit of ${LIMIT} bytes`);
      expect(raw.written).toBe(Buffer.byteLength(head(path, ['Content-Length: 5242880'])));
    });

    it('stops reading a chunked body as soon as it passes the limit: 413 while the client still sends', async () => {
      const raw = client();
      await raw.write(head(path, ['Transfer-Encoding: chunked']));
      const total = 64 * 1024 * 1024; // a thousand times the limit
      const chunk = Buffer.alloc(16 * 1024, 'x');
      const framed = Buffer.concat([
        Buffer.from(`${chunk.length.toString(16)}\r\n`),
        chunk,
        Buffer.from('\r\n'),
      ]);
      while (raw.written < total && raw.writtenWhenAnswered === undefined) {
        if (!(await raw.write(framed))) break;
      }
      const answer = await raw.answeredAndClosed();
      expect(answer.status).toBe(413);
      expect(answer.headers).toContain('connection: close');
      // The answer came while the client was still sending, and the server read a small part.
      expect(raw.writtenWhenAnswered).toBeLessThan(total);
      const consumed = serverSockets.reduce((sum, socket) => sum + socket.bytesRead, 0);
      expect(consumed).toBeLessThan(16 * LIMIT);
    });

    it('answers 408 to a body that trickles in slower than the time allowed, and closes', async () => {
      const raw = client();
      await raw.write(head(path, ['Content-Length: 1000']));
      // One byte every 20 ms would take 20 s; the server gives the body TIMEOUT_MS.
      for (let sent = 0; sent < 1000 && raw.writtenWhenAnswered === undefined; sent++) {
        if (!(await raw.write('{'))) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const answer = await raw.answeredAndClosed();
      expect(answer.status).toBe(408);
      expect(answer.headers).toContain('connection: close');
      expect(JSON.parse(answer.body).message).toContain(`${TIMEOUT_MS} ms`);
      expect(raw.writtenWhenAnswered).toBeLessThan(Buffer.byteLength(head(path, [])) + 1000);
    });

    it('answers 415 to a compressed body instead of inflating it', async () => {
      const raw = client();
      await raw.write(head(path, ['Content-Encoding: gzip', 'Content-Length: 20']));
      await raw.write(Buffer.alloc(20));
      const answer = await raw.answeredAndClosed();
      expect(answer.status).toBe(415);
      expect(JSON.parse(answer.body).message).toContain('gzip');
    });
  });

  it('a body within the limits still arrives whole, chunked or not', async () => {
    const body = JSON.stringify({
      sip_headers: [{ name: 'To', value: '<sip:+18005550100@sip.api.openai.com>' }],
    });
    const raw = client();
    await raw.write(head('/rules/evaluate', ['Transfer-Encoding: chunked', 'Connection: close']));
    for (const part of [body.slice(0, 10), body.slice(10)]) {
      await raw.write(`${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n`);
    }
    await raw.write('0\r\n\r\n');
    const answer = await raw.answeredAndClosed();
    expect(answer.status).toBe(200);
  });
});

describe('body limit options', () => {
  it.each([
    ['WebhooksModule', { options: { bodyTimeoutMs: 0 } }, 'WebhooksModule: bodyTimeoutMs'],
    [
      'CallsModule',
      {
        imports: [
          CallsModule.forRoot({ store: new SqliteCallStore(':memory:'), maxBodyBytes: -1 }),
        ],
      },
      'CallsModule: maxBodyBytes',
    ],
  ])('%s refuses a limit that is not a positive number, naming it', async (_m, config, message) => {
    await expect(createTestApp(config)).rejects.toThrow(`${message} must be a positive number`);
  });
});

describe('the service (dist/main.js): the limits come from its configuration, on every route', () => {
  let dataDir: string;
  let service: ServiceProcess;
  const clients: RawClient[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-body-limits-'));
    service = await startService({
      DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      NODE_ENV: 'development',
      ADMIN_TOKEN: TOKEN,
      MAX_BODY_BYTES: String(LIMIT),
      BODY_TIMEOUT_MS: '500',
      HEADERS_TIMEOUT_MS: '500',
    });
  });
  afterAll(async () => {
    for (const client of clients.splice(0)) client.destroy();
    service.child.kill('SIGKILL');
    await service.exited;
    rmSync(dataDir, { recursive: true, force: true });
  });

  function client(): RawClient {
    const raw = new RawClient(service.port);
    clients.push(raw);
    return raw;
  }

  it('MAX_BODY_BYTES: a declared body over it gets 413 at once, on the webhook and the rules API', async () => {
    for (const path of ['/webhooks/openai', '/rules/evaluate']) {
      const raw = client();
      await raw.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 5242880\r\n\r\n`);
      expect((await raw.answeredAndClosed()).status).toBe(413);
    }
  });

  it('BODY_TIMEOUT_MS: a webhook body trickling in gets 408 naming the time', async () => {
    const raw = client();
    await raw.write('POST /webhooks/openai HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n');
    for (let sent = 0; sent < 1000 && raw.writtenWhenAnswered === undefined; sent++) {
      if (!(await raw.write('{'))) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const answer = await raw.answeredAndClosed();
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body).message).toContain('500 ms');
  });

  it('HEADERS_TIMEOUT_MS: headers sent one line at a time (slowloris) get 408 and the connection closes', async () => {
    const raw = client();
    await raw.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    for (let line = 0; line < 1000 && raw.writtenWhenAnswered === undefined; line++) {
      if (!(await raw.write(`X-Slow-${line}: 1\r\n`))) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await raw.answeredAndClosed()).status).toBe(408);
  });

  it('a route that reads no body does not drain one for ever: the connection closes', async () => {
    const raw = client();
    await raw.write('POST /nowhere HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    // 4,000 chunks at least 5 ms apart: far longer than headers and body time together.
    let chunks = 0;
    while (chunks < 4000 && !raw.closed) {
      if (!(await raw.write(`400\r\n${'x'.repeat(1024)}\r\n`))) break;
      chunks++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const answer = await raw.answeredAndClosed();
    expect(answer.status).toBe(404);
    expect(chunks).toBeLessThan(4000); // closed by the server while the client was still sending
  });
});
