import { connect, Socket } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * A keep-alive HTTP/1.1 client over one socket that sends bytes exactly as given: header values
 * may hold any byte, which Node's own client refuses to send. One request at a time; when the
 * server closes the connection (as Node does after refusing unparseable bytes), the next
 * request opens a new one.
 */
export class RawHttpClient {
  private socket?: Socket;
  private received = Buffer.alloc(0);
  private waiting?: { resolve: (r: RawResponse) => void; reject: (e: Error) => void };

  constructor(
    private readonly port: number,
    private readonly host = '127.0.0.1',
  ) {}

  /** A request with the given header values (raw bytes) and body. */
  static request(path: string, headers: [string, Buffer | string][], body: Buffer): Buffer {
    const head: Buffer[] = [Buffer.from(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`)];
    for (const [name, value] of headers) {
      head.push(Buffer.from(`${name}: `), Buffer.from(value), Buffer.from('\r\n'));
    }
    head.push(Buffer.from(`Content-Length: ${body.length}\r\n\r\n`));
    return Buffer.concat([...head, body]);
  }

  async send(bytes: Buffer, timeoutMs = 10_000): Promise<RawResponse> {
    const socket = await this.open();
    return new Promise<RawResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        socket.destroy();
        reject(new Error(`no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting = {
        resolve: (response) => {
          clearTimeout(timer);
          resolve(response);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      socket.write(bytes);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private open(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.received = Buffer.alloc(0);
    return new Promise((resolve, reject) => {
      const socket = connect(this.port, this.host, () => resolve(socket));
      socket.once('error', reject);
      socket.on('data', (chunk: Buffer) => {
        this.received = Buffer.concat([this.received, chunk]);
        this.deliver(false);
      });
      socket.on('close', () => {
        if (this.socket !== socket) return; // already let go of
        this.deliver(true);
        this.socket = undefined;
        this.waiting?.reject(new Error('connection closed without a complete answer'));
        this.waiting = undefined;
      });
      this.socket = socket;
    });
  }

  /** Hands over one complete response, if the bytes so far hold one. */
  private deliver(closed: boolean): void {
    const end = this.received.indexOf('\r\n\r\n');
    if (end < 0 || !this.waiting) return;
    const lines = this.received.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0])?.[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = headers['content-length'] === undefined ? 0 : Number(headers['content-length']);
    if (this.received.length < end + 4 + length && !closed) return;
    const body = this.received.subarray(end + 4, end + 4 + length).toString();
    this.received = this.received.subarray(end + 4 + length);
    // The server is closing this connection: the next request must not be written into it.
    if (headers.connection?.toLowerCase() === 'close') this.close();
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting.resolve({ status, headers, body });
  }
}
