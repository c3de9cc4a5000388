import { Agent, request } from 'node:http';
import { connect, Socket } from 'node:net';
import { Delivery } from './signing';

/** What came back for one request: its status and `Connection` header, or `failed` (no answer). */
export interface Answer {
  status: number | 'failed';
  connection?: string;
  body?: string;
}

/** POSTs a delivery on a (keep-alive) agent, as a webhook sender with a connection pool would. */
export function postOn(agent: Agent, port: number, delivery: Delivery): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/webhooks/openai',
        agent,
        headers: { ...delivery.headers, 'content-length': Buffer.byteLength(delivery.body) },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode!, connection: res.headers.connection }),
        );
        res.on('error', () => resolve({ status: 'failed' }));
      },
    );
    req.setTimeout(10_000, () => req.destroy());
    req.on('error', () => resolve({ status: 'failed' }));
    req.end(delivery.body);
  });
}

/**
 * A request written by hand over its own socket, so a test decides when it is complete: the
 * first part now (headers, half a body), the rest later. `closed` resolves when the server
 * closes the connection.
 */
export class PartialRequest {
  private readonly socket: Socket;
  private received = '';
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => (this.received += chunk.toString()));
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined); // a reset shows as `closed` and an empty answer
  }

  static async open(port: number, firstPart: string): Promise<PartialRequest> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const partial = new PartialRequest(socket);
    socket.write(firstPart);
    return partial;
  }

  /** Writes the rest and waits (bounded) for one whole response. */
  async finish(rest: string, timeoutMs = 10_000): Promise<Answer> {
    this.socket.write(rest);
    return this.answer(timeoutMs);
  }

  /** The first complete response received on this socket. */
  async answer(timeoutMs = 10_000): Promise<Answer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parsed = parseResponse(this.received);
      if (parsed) return parsed;
      if (this.socket.destroyed || Date.now() > deadline) return { status: 'failed' };
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** One HTTP/1.1 response with a Content-Length body, or undefined until it has all arrived. */
function parseResponse(text: string): Answer | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers = new Map(
    lines.map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()] as const;
    }),
  );
  const length = Number(headers.get('content-length') ?? 0);
  const body = Buffer.from(text.slice(end + 4));
  if (body.length < length) return undefined;
  return {
    status: Number(statusLine.split(' ')[1]),
    connection: headers.get('connection'),
    body: body.subarray(0, length).toString(),
  };
}
