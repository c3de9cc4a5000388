import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import type { Surface } from './fake-call-state';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

const PATHS: Record<Surface, RegExp> = {
  realtime: /^\/v1\/realtime\?call_id=([^&]+)$/,
  live: /^\/v1\/live\/sessions\/([^/?]+)\/attach$/,
};

/** One sideband connection as the fake's side sees it: what arrived, and a hand to send. */
export class FakeSidebandConnection {
  readonly received: Json[] = [];
  private waiters: (() => void)[] = [];

  constructor(
    readonly surface: Surface,
    readonly id: string,
    readonly authorization: string | undefined,
    readonly socket: WebSocket,
  ) {
    socket.on('message', (data) => {
      this.received.push(JSON.parse(String(data)) as Json);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  get open(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** A server event, as OpenAI would send it. */
  send(event: Json): void {
    this.socket.send(JSON.stringify(event));
  }

  /** Resolves with the first client event that passes `test` (bounded by `timeoutMs`). */
  async waitFor(test: (event: Json) => boolean, timeoutMs = 5000): Promise<Json> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(test);
      if (found) return found;
      if (Date.now() > deadline)
        throw new Error(
          `no such client event on ${this.id} within ${timeoutMs} ms; got ${JSON.stringify(this.received)}`,
        );
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** The connection breaks without a close frame (a network drop): the call goes on. */
  drop(): void {
    this.socket.terminate();
  }

  /** Closes the socket as OpenAI does when the call is over. */
  close(code = 1000): void {
    this.socket.close(code);
  }
}

/**
 * The sideband WebSockets of the fake OpenAI, on the same loopback server: Realtime
 * (`/v1/realtime?call_id=...`) and Live (`/v1/live/sessions/{id}/attach`). A connection needs
 * a bearer key; a call that is over (hung up, transferred, or `gone()`) is refused with 404, as
 * OpenAI refuses an unknown call. Tests script the model's side through the connections.
 */
export class FakeSidebands {
  readonly connections: FakeSidebandConnection[] = [];
  private readonly over = new Set<string>();
  private readonly server = new WebSocketServer({ noServer: true });
  private waiters: (() => void)[] = [];
  /** Answer the next connection attempts with these HTTP statuses instead (e.g. 503). */
  readonly refuseNext: number[] = [];

  constructor(private readonly isGone: (id: string) => boolean) {}

  attach(http: Server): void {
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(req, socket, head),
    );
  }

  /** The call is over at OpenAI: later connection attempts get 404. */
  gone(id: string): void {
    this.over.add(id);
  }

  /** Every connection made to this call's sideband, oldest first. */
  of(id: string): FakeSidebandConnection[] {
    return this.connections.filter((connection) => connection.id === id);
  }

  /** The `count`-th connection (1-based) to this call's sideband, once it is made. */
  async connection(id: string, count = 1, timeoutMs = 5000): Promise<FakeSidebandConnection> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const made = this.of(id);
      if (made.length >= count) return made[count - 1];
      if (Date.now() > deadline)
        throw new Error(`expected ${count} sideband connection(s) to ${id}, got ${made.length}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /**
   * The caller hangs up: Live says `session.closed` (`remote_hangup`) and closes; Realtime just
   * closes the socket. Either way the call is gone (a reconnect gets 404).
   */
  hangUp(id: string): void {
    this.gone(id);
    for (const connection of this.of(id).filter((c) => c.open)) {
      if (connection.surface === 'live')
        connection.send({ type: 'session.closed', reason: 'remote_hangup' });
      connection.close();
    }
  }

  /** Our own hangup or transfer reached call control: the call's sideband closes. */
  endedByControl(id: string, verb: 'hangup' | 'refer'): void {
    this.gone(id);
    for (const connection of this.of(id).filter((c) => c.open)) {
      if (connection.surface === 'live')
        connection.send({
          type: 'session.closed',
          reason: verb === 'hangup' ? 'close_requested' : 'transferred',
        });
      connection.close();
    }
  }

  close(): void {
    for (const connection of this.connections) connection.socket.terminate();
    this.server.close();
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = req.url ?? '';
    let surface: Surface | undefined;
    let id = '';
    for (const name of ['realtime', 'live'] as const) {
      const match = PATHS[name].exec(path);
      if (match) [surface, id] = [name, decodeURIComponent(match[1])];
    }
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    };
    const scripted = this.refuseNext.shift();
    if (scripted !== undefined) return refuse(scripted, 'Scripted');
    if (!surface) return refuse(404, 'Not Found');
    if (!/^Bearer \S+$/.test(req.headers.authorization ?? '')) return refuse(401, 'Unauthorized');
    if (this.over.has(id) || this.isGone(id)) return refuse(404, 'Not Found');
    this.server.handleUpgrade(req, socket, head, (ws) => {
      this.connections.push(new FakeSidebandConnection(surface, id, req.headers.authorization, ws));
      for (const wake of this.waiters.splice(0)) wake();
    });
  }
}

/** Server events of the Realtime sideband, as OpenAI's reference names them. */
export const realtimeEvents = {
  callerSaid: (transcript: string) => ({
    type: 'conversation.item.input_audio_transcription.completed',
    item_id: `item_${transcript.length}`,
    content_index: 0,
    transcript,
  }),
  agentSaid: (transcript: string, itemId = 'item_agent') => ({
    type: 'response.output_audio_transcript.done',
    item_id: itemId,
    transcript,
  }),
  agentSaying: (delta: string, itemId = 'item_agent') => ({
    type: 'response.output_audio_transcript.delta',
    item_id: itemId,
    delta,
  }),
  functionCall: (callId: string, name: string, args: object) => ({
    type: 'response.function_call_arguments.done',
    call_id: callId,
    name,
    arguments: JSON.stringify(args),
  }),
  dtmf: (digit: string) => ({ type: 'input_audio_buffer.dtmf_event_received', event: digit }),
  error: (message: string, code = 'server_error') => ({
    type: 'error',
    error: { type: 'server_error', code, message },
  }),
};

/** Server events of the Live sideband. */
export const liveEvents = {
  started: () => ({ type: 'session.started' }),
  callerSaying: (delta: string) => ({ type: 'session.input_transcript.delta', delta }),
  agentSaying: (delta: string) => ({ type: 'session.output_transcript.delta', delta }),
  functionCall: (callId: string, name: string, args: object) => ({
    type: 'response.event',
    event: {
      type: 'response.output_item.done',
      item: { type: 'function_call', call_id: callId, name, arguments: JSON.stringify(args) },
    },
  }),
  functionCallArguments: (callId: string, name: string, args: object) => ({
    type: 'response.event',
    event: {
      type: 'response.function_call_arguments.done',
      call_id: callId,
      name,
      arguments: JSON.stringify(args),
    },
  }),
  dtmf: (digits: string) => ({ type: 'transport.dtmf.received', digits }),
  closed: (reason: string) => ({ type: 'session.closed', reason }),
  error: (message: string, code = 'server_error') => ({
    type: 'error',
    error: { type: 'server_error', code, message },
  }),
};
