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
import { EventStreamOptions, STREAM_DEFAULTS } from './event-stream.options';
import { StreamCatchUp } from './stream-catch-up';
import { StreamClient } from './stream-client';
import { ClientMessage, eventCallId, parseClientMessage, serializeEvent } from './stream-protocol';

export const CLOSE_SLOW_CONSUMER = 4008;
export const CLOSE_GOING_AWAY = 1001;
/**
 * Unwritten bytes the socket itself may hold for one client; the rest waits in the client's
 * outbox, where it can be dropped. Small, so that a close frame is never stuck behind much.
 */
const SOCKET_HIGH_WATER = 64 * 1024;
/** Live events held aside during one catch-up, at most; past it they are re-read from the store. */
const MAX_HELD_EVENTS = 10_000;

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
  /** Clients told to go (close frame sent or queued) whose connection has not ended yet. */
  private readonly leaving = new Set<StreamClient>();
  private readonly path: string;
  private readonly maxBuffered: number;
  private readonly socketHighWater: number;
  private readonly catchUp: StreamCatchUp;
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
    this.path = options.path ?? STREAM_DEFAULTS.path;
    this.maxBuffered = options.maxBufferedBytes ?? STREAM_DEFAULTS.maxBufferedBytes;
    // Half the budget: what a catch-up queues leaves room for replies (pong, errors).
    this.catchUp = new StreamCatchUp(store, Math.max(1, Math.floor(this.maxBuffered / 2)));
    this.socketHighWater = Math.min(SOCKET_HIGH_WATER, this.maxBuffered);
    this.maxSubscriptions = options.maxSubscriptions ?? STREAM_DEFAULTS.maxSubscriptions;
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
      maxPayload: this.options.maxMessageBytes ?? STREAM_DEFAULTS.maxMessageBytes,
    });
    this.server.on('upgrade', this.onUpgrade);
    this.stopFeed = this.store.subscribe((event) => this.broadcast(event));
    this.heartbeat = setInterval(
      () => this.beat(),
      this.options.heartbeatMs ?? STREAM_DEFAULTS.heartbeatMs,
    );
    this.heartbeat.unref();
  }

  /**
   * Clients hear 1001 with the sequence to resume from, before the HTTP server closes. Those
   * still leaving (a slow consumer that has not read its 4008) get the same second, not the
   * 30 s `ws` would give them: the HTTP server's close waits for every connection.
   */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.heartbeat);
    this.stopFeed?.();
    this.server?.off('upgrade', this.onUpgrade);
    for (const client of [...this.clients])
      this.close(
        client,
        CLOSE_GOING_AWAY,
        `server shutting down; reconnect with since=<last seq received>`,
      );
    await Promise.all(
      [...this.leaving].map(
        (client) =>
          new Promise<void>((resolve) => {
            client.socket.once('close', () => resolve());
            setTimeout(() => {
              client.socket.terminate();
              resolve();
            }, 1000).unref();
          }),
      ),
    );
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
    this.wss!.handleUpgrade(req, socket, head, (ws) =>
      this.accept(new StreamClient(ws, this.socketHighWater), url),
    );
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

  private async start(client: StreamClient, since: number | undefined): Promise<void> {
    try {
      const live = await this.catchUp.run(client, since, (message) =>
        this.send(client, JSON.stringify({ type: 'error', message })),
      );
      if (live) this.send(client, JSON.stringify({ type: 'caught_up', seq: client.lastSeq }));
    } catch (error) {
      this.logger.error(`catch-up failed: ${(error as Error).message}`);
      this.close(client, 1011, 'catch-up failed; reconnect with since=<last seq received>');
    }
  }

  private broadcast(event: StoredEvent): void {
    let message: string | undefined;
    let bytes = 0;
    let callId: string | undefined | null = null;
    const readCallId = () => {
      if (callId === null) callId = eventCallId(event.payload);
      return callId;
    };
    for (const client of this.clients) {
      if (client.state === 'catching_up') {
        client.hold(event, this.maxBuffered, MAX_HELD_EVENTS);
        continue;
      }
      if (client.state !== 'live' || event.seq <= client.lastSeq) continue;
      client.lastSeq = event.seq;
      if (!client.filter.matches(event.type, readCallId)) continue;
      if (message === undefined) {
        message = serializeEvent(event);
        bytes = Buffer.byteLength(message);
      }
      this.send(client, message, bytes);
    }
  }

  /**
   * Queues a message for a client, unless more than the budget would then wait for it: then the
   * client is cut off. One message bigger than the whole budget still goes to a client with
   * nothing else waiting.
   */
  private send(client: StreamClient, text: string, bytes = Buffer.byteLength(text)): void {
    if (!client.open) return;
    const waiting = client.outbox.queuedBytes;
    if (waiting > 0 && waiting + bytes > this.maxBuffered) {
      this.cutOff(client);
      return;
    }
    client.outbox.push(text, bytes);
  }

  /**
   * What waited for the client is dropped, so the close frame goes out right behind the little
   * the socket holds, and a client that reads again learns why: `ws` waits 30 s for the closing
   * handshake before it drops the connection.
   */
  private cutOff(client: StreamClient): void {
    if (!client.closed) this.metrics?.streamSlowClientsDropped.inc();
    this.close(
      client,
      CLOSE_SLOW_CONSUMER,
      `slow consumer: over ${this.maxBuffered} bytes unsent; reconnect with since=<last seq received>`,
    );
  }

  private close(client: StreamClient, code: number, reason: string): void {
    if (client.closed) return;
    client.closed = true;
    client.releaseHeld();
    client.outbox.drop();
    this.clients.delete(client);
    this.metrics?.streamClients.set(this.clients.size);
    this.leaving.add(client);
    client.socket.once('close', () => this.leaving.delete(client));
    client.socket.close(code, reason.slice(0, 123));
  }

  private forget(client: StreamClient): void {
    client.closed = true;
    client.releaseHeld();
    client.outbox.drop();
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

const REASONS = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found' } as const;

function refuse(socket: Duplex, status: keyof typeof REASONS, message: string): void {
  const reason = REASONS[status];
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\nConnection: close\r\n\r\n${message}`,
  );
}
