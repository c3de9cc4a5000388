import { Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * Takes the HTTP server out of service when shutdown begins, so the drain ends by itself instead
 * of at the shutdown timeout: readiness turns 503, the listener closes, idle keep-alive
 * connections are closed, and every response still to be written (in flight, or to a request
 * that arrives on an open keep-alive connection) carries `Connection: close`, after which Node
 * closes that connection. Without this, clients that keep their connections busy are served
 * forever and the server never finishes closing.
 */
@Injectable()
export class HttpDrain implements OnApplicationBootstrap, OnModuleDestroy {
  private server?: Server;
  private readonly inFlight = new Set<ServerResponse>();
  private begun = false;

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  get draining(): boolean {
    return this.begun;
  }

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (typeof server?.prependListener !== 'function') return; // no HTTP server in this app
    this.server = server;
    // First in line, so the header is set before any handler can start the response.
    server.prependListener('request', this.onRequest);
  }

  /** Any `app.close()` drains, whoever calls it; the service calls `begin()` itself first. */
  onModuleDestroy(): void {
    this.begin();
  }

  /** Idempotent. The server's own `close` (in Nest's shutdown) then waits for the last connection. */
  begin(): void {
    if (this.begun) return;
    this.begun = true;
    for (const response of this.inFlight) this.closeAfter(response);
    this.inFlight.clear();
    if (this.server?.listening) this.server.close(); // Node closes the idle connections as well
    this.server?.closeIdleConnections();
  }

  private readonly onRequest = (_request: IncomingMessage, response: ServerResponse): void => {
    if (this.begun) return this.closeAfter(response);
    this.inFlight.add(response);
    response.once('close', () => this.inFlight.delete(response));
  };

  private closeAfter(response: ServerResponse): void {
    if (!response.headersSent) {
      response.setHeader('Connection', 'close');
      return;
    }
    // Too late for the header: close the connection once it is idle after this response.
    response.once('finish', () => this.server?.closeIdleConnections());
  }
}
