import type { Server } from 'node:http';

/**
 * Bounds how long any request may take to arrive, on every route, through Node's own server
 * timeouts: headers within `headersTimeoutMs` (a slowloris sending one header line at a time),
 * the whole request within headers plus body time. Past either, Node answers 408 and closes.
 * Routes that read a body refuse a slow one themselves first, with a message saying why.
 * Call before `listen`: the check interval is read when the server starts listening.
 */
export function boundRequestTimes(
  server: Server,
  limits: { headersTimeoutMs: number; bodyTimeoutMs: number },
): void {
  server.headersTimeout = limits.headersTimeoutMs;
  // A second of slack so that a route's own 408 for a slow body comes first.
  server.requestTimeout = limits.headersTimeoutMs + limits.bodyTimeoutMs + 1000;
  // Node checks these every 30 s by default, which would let a slow sender hold on for longer.
  // (A public property of http.Server that @types/node 20 leaves out.)
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval =
    Math.min(1000, limits.headersTimeoutMs);
}
