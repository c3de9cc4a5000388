import WebSocket from 'ws';

export interface StreamMessage {
  type: string;
  seq?: number;
  message?: string;
  event?: { id: string; type: string; data: Record<string, unknown> };
  [key: string]: unknown;
}

/** A real `ws` client that keeps every message it receives, for assertions. */
export class TestStreamClient {
  readonly messages: StreamMessage[] = [];
  closeCode?: number;
  closeReason?: string;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) =>
      this.messages.push(JSON.parse(data.toString()) as StreamMessage),
    );
    socket.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
    });
  }

  static connect(url: string, token?: string): Promise<TestStreamClient> {
    const socket = new WebSocket(
      url,
      token ? { headers: { Authorization: `Bearer ${token}` } } : {},
    );
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
