import { createServer, connect, Server, Socket } from 'node:net';

/**
 * A TCP relay on loopback in front of a real server (PostgreSQL), for faults a test makes on
 * purpose: a delay on what the client sends (a slow network), or the connection lost (`stop`)
 * and back (`start` again on the same port).
 */
export class TcpProxy {
  /** Milliseconds each chunk from the client waits before it goes on to the server. */
  delayMs = 0;
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  /** Connections that carry nothing any more, though neither end has been told. */
  private readonly frozen = new Set<Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** Listens (again, on the same port once it has one). */
  async start(): Promise<this> {
    const server = createServer((client) => this.relay(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
    return this;
  }

  /** Refuses new connections and cuts every open one: the server is gone, as far as clients see. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Every open connection goes silent, as one that a NAT or a firewall dropped while idle: no
   * byte passes either way and neither end is told. New connections are relayed as before.
   */
  freeze(): void {
    for (const socket of this.sockets) this.frozen.add(socket);
  }

  /** The URL with its host and port replaced by the proxy's. */
  url(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  private relay(client: Socket): void {
    const upstream = connect(this.targetPort, this.targetHost);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
      this.frozen.delete(client);
      this.frozen.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    upstream.on('data', (chunk) => {
      if (!this.frozen.has(upstream)) client.write(chunk);
    });
    client.on('data', (chunk) => {
      if (this.frozen.has(client)) return;
      // Equal delays keep the chunks in order (timers of equal delay run in order).
      if (this.delayMs === 0) upstream.write(chunk);
      else setTimeout(() => upstream.write(chunk), this.delayMs);
    });
  }
}
