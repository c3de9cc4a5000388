import { Client, types as pgTypes } from 'pg';

const MIN_RETRY_MS = 100;
const MAX_RETRY_MS = 2000;
/**
 * How often the listening connection is asked a `SELECT 1`, and how long its answer may take.
 * A connection that only listens sends nothing: one that a NAT, a load balancer or a firewall
 * dropped while idle (no FIN, no RST) would otherwise look up for ever while every NOTIFY is
 * lost. Unanswered in time, it counts as lost: reconnected, and what was missed is read.
 */
export const LISTEN_HEARTBEAT_MS = 5000;

/**
 * A connection that does nothing but LISTEN on one channel. When it drops it reconnects by
 * itself (backing off up to 2 s) and, once listening again, calls `onConnected`: notifications
 * sent while it was away are lost, so the owner reads what it may have missed.
 */
export class PostgresListener {
  private client?: Client;
  private closed = false;
  private retryMs = MIN_RETRY_MS;
  private timer?: NodeJS.Timeout;
  private up = false;
  private wasUp = false;
  private heartbeat?: NodeJS.Timeout;
  /** Settles once the first connection is listening (or has failed once). */
  readonly ready: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly channel: string,
    private readonly types: { getTypeParser: typeof pgTypes.getTypeParser },
    private readonly onNotify: (payload: string | undefined) => void,
    private readonly onConnected: () => void,
    private readonly onChange: (up: boolean) => void,
    private readonly heartbeatMs = LISTEN_HEARTBEAT_MS,
  ) {
    this.ready = this.connect();
  }

  get connected(): boolean {
    return this.up;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new Client({
      connectionString: this.url,
      types: this.types,
      keepAlive: true,
      connectionTimeoutMillis: 5000,
    });
    this.client = client;
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    client.on('notification', (message) => this.onNotify(message.payload));
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdentifier(this.channel)}`);
    } catch {
      this.lost(client);
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.up = true;
    this.retryMs = MIN_RETRY_MS;
    if (this.wasUp) this.onChange(true);
    this.wasUp = true;
    this.beat(client);
    this.onConnected();
  }

  /** Asks `client` a `SELECT 1` every `heartbeatMs`; no answer within as long: it is lost. */
  private beat(client: Client): void {
    clearInterval(this.heartbeat);
    let asking = false;
    this.heartbeat = setInterval(() => {
      if (asking || client !== this.client) return;
      asking = true;
      const unanswered = setTimeout(() => this.lost(client), this.heartbeatMs);
      client
        .query('SELECT 1')
        .then(
          () => undefined,
          () => this.lost(client),
        )
        .finally(() => {
          clearTimeout(unanswered);
          asking = false;
        });
    }, this.heartbeatMs);
    this.heartbeat.unref();
  }

  private lost(client: Client): void {
    if (client !== this.client || this.closed) return;
    this.client = undefined;
    clearInterval(this.heartbeat);
    if (this.up) this.onChange(false);
    this.up = false;
    client.end().catch(() => undefined);
    // A connection that went silent would not close on end(): its socket is let go of.
    (
      client as unknown as { connection?: { stream?: { destroy(): void } } }
    ).connection?.stream?.destroy();
    this.timer = setTimeout(() => void this.connect(), this.retryMs);
    this.timer.unref();
    this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
    const client = this.client;
    this.client = undefined;
    this.up = false;
    await client?.end().catch(() => undefined);
  }
}

/** A channel name as an SQL identifier. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
