import WebSocket from 'ws';

export interface StreamMessage {
  type: string;
  seq?: number;
  message?: string;
  event?: { id: string; type: string; data: Record<string, unknown> };
  [key: string]: unknown;
}

export interface TestStreamClientOptions {
  /** Answer the server's pings (the default, as every WebSocket client does). */
  autoPong?: boolean;
}

/** A real `ws` client that keeps every message it receives, for assertions. */
export class TestStreamClient {
  readonly messages: StreamMessage[] = [];
  /** Pings received from the server's heartbeat. */
  pings = 0;
  closeCode?: number;
  closeReason?: string;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) =>
      this.messages.push(JSON.parse(data.toString()) as StreamMessage),
    );
    socket.on('ping', () => (this.pings += 1));
    socket.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
    });
  }

  static connect(
    url: string,
    token?: string,
    options: TestStreamClientOptions = {},
  ): Promise<TestStreamClient> {
    const socket = new WebSocket(url, {
      ...(token ? { headers: { Authorization: `Bearer ${token}` } } : {}),
      autoPong: options.autoPong ?? true,
    });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new TestStreamClient(socket)));
      socket.once('unexpected-response', (_req, res) =>
        reject(new Error(`HTTP ${res.statusCode}`)),
      );
      socket.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /**
   * Sends `{"op":"ping"}` and waits for its pong: everything the server wrote before answering
   * (and everything this client sent before, pongs included) has then been through both ways.
   */
  async roundTrip(timeoutMs = 5000): Promise<void> {
    const before = this.messages.filter((m) => m.type === 'pong').length;
    this.send({ op: 'ping' });
    const deadline = Date.now() + timeoutMs;
    while (this.messages.filter((m) => m.type === 'pong').length === before) {
      if (Date.now() > deadline || this.closeCode !== undefined)
        throw new Error('no pong from the server');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Stops reading from the socket: what the server sends piles up in the kernel, then there. */
  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  events(): StreamMessage[] {
    return this.messages.filter((m) => m.type === 'event');
  }

  seqs(): number[] {
    return this.events().map((m) => m.seq!);
  }

  close(): void {
    this.socket.terminate();
  }
}
