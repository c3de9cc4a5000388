import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import { bearerToken, SecretToken } from '../common/bearer-token';
import { SwitchboardMetrics } from '../metrics/switchboard-metrics';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { EVENT_STORE, EventStore, StoredEvent } from '../webhooks/store/event-store';
import { EVENT_STREAM_OPTIONS } from './event-stream.module-definition';
import { DEFAULT_STREAM_PATH, EventStreamOptions } from './event-stream.options';
import { StreamClient } from './stream-client';
import { ClientMessage, parseClientMessage } from './stream-protocol';

export const CLOSE_SLOW_CONSUMER = 4008;
export const CLOSE_GOING_AWAY = 1001;
const CATCH_UP_PAGE = 500;
/** A client still catching up may hold this many live events aside before it counts as slow. */
const MAX_PENDING = 10_000;

/**
 * The live event stream: a WebSocket endpoint on the service's own HTTP port. Every event the
 * store commits (OpenAI's and Switchboard's own) goes to each client whose filter matches, with
 * its sequence number. A client that gives `since` first receives what it missed from the
 * store, in order, then live events, with no gap and no duplicate at the seam.
 */
@Injectable()
export class EventStreamServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('EventStream');
  private readonly clients = new Set<StreamClient>();
  private readonly path: string;
  private readonly maxBuffered: number;
  private readonly maxSubscriptions: number;
  /** The admin token and the read-only stream tokens: on the stream they grant the same. */
  private readonly tokens: SecretToken[];
  private wss?: WebSocketServer;
  private stopFeed?: () => void;
  private heartbeat?: NodeJS.Timeout;
  private server?: Server;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(EVENT_STREAM_OPTIONS) private readonly options: EventStreamOptions,
    @Optional() private readonly metrics?: SwitchboardMetrics,
  ) {
    this.path = options.path ?? DEFAULT_STREAM_PATH;
    this.maxBuffered = options.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.maxSubscriptions = options.maxSubscriptions ?? 256;
    this.tokens = [
      ...(options.adminToken ? [options.adminToken] : []),
      ...(options.readTokens ?? []),
    ].map((token) => new SecretToken(token));
  }

  /** Connected clients (for metrics and tests). */
  get clientCount(): number {
    return this.clients.size;
  }

  onApplicationBootstrap(): void {
    this.server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.options.maxMessageBytes ?? 16 * 1024,
    });
    this.server.on('upgrade', this.onUpgrade);
    this.stopFeed = this.store.subscribe((event) => this.broadcast(event));
    this.heartbeat = setInterval(() => this.beat(), this.options.heartbeatMs ?? 30_000);
    this.heartbeat.unref();
  }

  /** Clients hear 1001 with the sequence to resume from, before the HTTP server closes. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.heartbeat);
    this.stopFeed?.();
    this.server?.off('upgrade', this.onUpgrade);
    const closing = [...this.clients].map(
      (client) =>
        new Promise<void>((resolve) => {
          client.socket.once('close', () => resolve());
          this.close(
            client,
            CLOSE_GOING_AWAY,
            `server shutting down; reconnect with since=<last seq received>`,
          );
          setTimeout(() => {
            client.socket.terminate();
            resolve();
          }, 1000).unref();
        }),
    );
    await Promise.all(closing);
    this.wss?.close();
  }

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return refuse(socket, 400, 'bad request target');
    }
    if (url.pathname !== this.path) {
      if (this.server && this.server.listenerCount('upgrade') === 1)
        refuse(socket, 404, 'no WebSocket endpoint here');
      return;
    }
    if (this.tokens.length === 0)
      return refuse(socket, 404, 'the event stream is off: set ADMIN_TOKEN to enable it');
    if (!this.authenticate(req, url)) {
      return refuse(socket, 401, 'send Authorization: Bearer <token> or ?token=<token>');
    }
    this.wss!.handleUpgrade(req, socket, head, (ws) => this.accept(new StreamClient(ws), url));
  };

  private authenticate(req: IncomingMessage, url: URL): boolean {
    const token =
      bearerToken(req.headers.authorization) ?? url.searchParams.get('token') ?? undefined;
    if (!token) return false;
    // Every configured token is compared, so timing does not tell which one matched.
    let matched = false;
    for (const expected of this.tokens) if (expected.matches(token)) matched = true;
    return matched;
  }

  private accept(client: StreamClient, url: URL): void {
    this.clients.add(client);
    this.metrics?.streamClients.set(this.clients.size);
    const { socket } = client;
    socket.on('message', (data, isBinary) =>
      this.onMessage(client, isBinary ? null : data.toString()),
    );
    socket.on('pong', () => (client.alive = true));
    socket.on('close', () => this.forget(client));
    socket.on('error', () => this.forget(client));
    // Browsers cannot send headers or a first message before `open`: the URL may subscribe.
    const types = url.searchParams.get('types');
    if (types !== null) {
      const since = url.searchParams.get('since');
      const callIds = url.searchParams.get('call_ids');
      this.onMessage(
        client,
        JSON.stringify({
          op: 'subscribe',
          types: types.split(',').filter(Boolean),
          ...(callIds ? { call_ids: callIds.split(',').filter(Boolean) } : {}),
          ...(since !== null ? { since: /^\d+$/.test(since) ? Number(since) : since } : {}),
        }),
      );
    }
  }

  private onMessage(client: StreamClient, text: string | null): void {
    let message: ClientMessage;
    try {
      if (text === null)
        throw new Error('binary frames are not part of the protocol; send JSON text');
      message = parseClientMessage(text);
    } catch (error) {
      this.send(client, JSON.stringify({ type: 'error', message: (error as Error).message }));
      return;
    }
    if (message.op === 'ping') {
      this.send(client, JSON.stringify({ type: 'pong', seq: client.lastSeq }));
      return;
    }
    if (message.op === 'unsubscribe') {
      for (const type of message.types ?? []) client.filter.types.delete(type);
      for (const id of message.call_ids ?? []) client.filter.callIds.delete(id);
      this.sendSubscription(client);
      return;
    }
    const added = [...(message.types ?? []), ...(message.call_ids ?? [])].filter(
      (item) => !client.filter.types.has(item) && !client.filter.callIds.has(item),
    ).length;
    if (client.filter.size + added > this.maxSubscriptions) {
      this.send(
        client,
        JSON.stringify({
          type: 'error',
          message: `at most ${this.maxSubscriptions} subscriptions (types and call ids) per client`,
        }),
      );
      return;
    }
    if (message.since !== undefined && client.state !== 'idle') {
      this.send(
        client,
        JSON.stringify({
          type: 'error',
          message: 'since is accepted only by the first subscribe of a connection',
        }),
      );
      return;
    }
    for (const type of message.types ?? []) client.filter.types.add(type);
    for (const id of message.call_ids ?? []) client.filter.callIds.add(id);
    this.sendSubscription(client);
    if (client.state === 'idle') void this.start(client, message.since);
  }

  /** Without `since`, live from now; with it, first everything after `since` from the store. */
  private async start(client: StreamClient, since: number | undefined): Promise<void> {
    if (since === undefined) {
      client.lastSeq = await this.store.headSeq();
      client.state = 'live';
      this.send(client, JSON.stringify({ type: 'caught_up', seq: client.lastSeq }));
      return;
    }
    // Live events are held aside from now on, so none committed during the reads is missed.
    client.state = 'catching_up';
    client.lastSeq = since;
    const head = await this.store.headSeq();
    if (since > head) {
      // A sequence from another store (reset, restored): from its value no event would ever come.
      client.lastSeq = head;
      this.send(
        client,
        JSON.stringify({
          type: 'error',
          message: `since ${since} is ahead of the newest event (${head}); streaming from ${head}`,
        }),
      );
    }
    try {
      for (;;) {
        const page = await this.store.list({ afterSeq: client.lastSeq, limit: CATCH_UP_PAGE });
        for (const event of page) this.deliver(client, event);
        if (!client.open) return;
        if (page.length < CATCH_UP_PAGE) break;
        await this.drained(client);
      }
      const pending = client.pending;
      client.pending = [];
      for (const event of pending) this.deliver(client, event);
      client.state = 'live';
      this.send(client, JSON.stringify({ type: 'caught_up', seq: client.lastSeq }));
    } catch (error) {
      this.logger.error(`catch-up failed: ${(error as Error).message}`);
      this.close(client, 1011, 'catch-up failed; reconnect with since=<last seq received>');
    }
  }

  private broadcast(event: StoredEvent): void {
    let message: string | undefined;
    let callId: string | undefined | null = null;
    const readCallId = () => {
      if (callId === null) callId = extractCallId(event.payload);
      return callId;
    };
    for (const client of this.clients) {
      if (client.state === 'catching_up') {
        client.pending.push(event);
        if (client.pending.length > MAX_PENDING) this.cutOff(client);
        continue;
      }
      if (client.state !== 'live' || event.seq <= client.lastSeq) continue;
      client.lastSeq = event.seq;
      if (!client.filter.matches(event.type, readCallId)) continue;
      message ??= serialize(event);
      this.send(client, message);
    }
  }

  /** Sends an event the client has not seen yet, if its filter wants it. */
  private deliver(client: StreamClient, event: StoredEvent): void {
    if (event.seq <= client.lastSeq) return;
    client.lastSeq = event.seq;
    if (client.filter.matches(event.type, () => extractCallId(event.payload)))
      this.send(client, serialize(event));
  }

  private send(client: StreamClient, text: string): void {
    if (!client.open) return;
    if (client.bufferedAmount > this.maxBuffered) {
      this.cutOff(client);
      return;
    }
    client.socket.send(text);
  }

  /** Waits (bounded) for a catching-up client to take what it was sent. */
  private async drained(client: StreamClient): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (client.open && client.bufferedAmount > this.maxBuffered / 2) {
      if (Date.now() > deadline) return this.cutOff(client);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private cutOff(client: StreamClient): void {
    if (!client.closed) this.metrics?.streamSlowClientsDropped.inc();
    this.close(
      client,
      CLOSE_SLOW_CONSUMER,
      `slow consumer: over ${this.maxBuffered} bytes unsent; reconnect with since=<last seq received>`,
    );
    setTimeout(() => client.socket.terminate(), 1000).unref();
  }

  private close(client: StreamClient, code: number, reason: string): void {
    if (client.closed) return;
    client.closed = true;
    client.pending = [];
    this.clients.delete(client);
    this.metrics?.streamClients.set(this.clients.size);
    client.socket.close(code, reason.slice(0, 123));
  }

  private forget(client: StreamClient): void {
    client.closed = true;
    client.pending = [];
    this.clients.delete(client);
    this.metrics?.streamClients.set(this.clients.size);
  }

  private beat(): void {
    for (const client of this.clients) {
      if (!client.alive) {
        this.forget(client);
        client.socket.terminate();
        continue;
      }
      client.alive = false;
      client.socket.ping();
    }
  }

  private sendSubscription(client: StreamClient): void {
    this.send(
      client,
      JSON.stringify({
        type: 'subscribed',
        types: [...client.filter.types],
        call_ids: [...client.filter.callIds],
      }),
    );
  }
}

/** The event's payload is JSON text already: it is embedded, never parsed and re-serialised. */
function serialize(event: StoredEvent): string {
  return `{"type":"event","seq":${event.seq},"source":"${event.source}","event":${event.payload}}`;
}

function extractCallId(payload: string): string | undefined {
  if (!payload.includes('"call_id"')) return undefined;
  try {
    const id = (JSON.parse(payload) as { data?: { call_id?: unknown } }).data?.call_id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

const REASONS = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found' } as const;

function refuse(socket: Duplex, status: keyof typeof REASONS, message: string): void {
  const reason = REASONS[status];
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\nConnection: close\r\n\r\n${message}`,
  );
}
