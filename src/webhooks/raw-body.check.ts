import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { WEBHOOK_PATH } from './webhooks.controller';

/**
 * What to change when a body parser reads the webhook body before Switchboard can: the
 * signature is over the exact bytes, and a parsed object cannot give them back.
 */
export const RAW_BODY_UNAVAILABLE =
  'a body parser read the webhook body before Switchboard could keep its raw bytes, so no signature can be checked: ' +
  'create the app with NestFactory.create(AppModule, { rawBody: true }) (or { bodyParser: false }), ' +
  "and add a parser of your own with app.useBodyParser('json') rather than app.use(express.json())";

/** Whether something earlier in the chain already consumed the request's body stream. */
export function bodyAlreadyRead(req: IncomingMessage): boolean {
  return req.readableEnded;
}

/** Names express's body parsers (body-parser) give their middleware functions. */
const BODY_PARSER_NAMES = new Set(['jsonParser', 'urlencodedParser', 'textParser', 'rawParser']);
const PROBE_TIMEOUT_MS = 1000;

interface ExpressLayer {
  name: string;
  route?: { path: string | string[]; methods: Record<string, boolean> };
  match(path: string): unknown;
  handle(req: unknown, res: unknown, next: (error?: unknown) => void): void;
}

/**
 * Catches at start-up the most common mistake of a host app: `NestFactory.create(AppModule)`
 * keeps Nest's JSON parser on and without `rawBody`, so every signed delivery would fail its
 * signature check. The parsers that run before the webhook route are given a one-line JSON
 * request; if one of them consumes it without keeping the raw bytes, the start fails with
 * what to change. Express only; other adapters are caught on the first delivery instead.
 */
@Injectable()
export class RawBodyCheck implements OnApplicationBootstrap {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  async onApplicationBootstrap(): Promise<void> {
    const adapter = this.adapterHost?.httpAdapter;
    if (!adapter || adapter.getType() !== 'express') return;
    const stack = expressStack(adapter.getInstance());
    const routeIndex = stack.findIndex(isWebhookRoute);
    if (routeIndex < 0) return;
    const path = routePath(stack[routeIndex]);
    const parsers = stack
      .slice(0, routeIndex)
      .filter((layer) => !layer.route && BODY_PARSER_NAMES.has(layer.name) && !!layer.match(path));
    if (parsers.length === 0) return;
    if ((await probe(parsers, path)) === 'consumed') {
      throw new Error(`WebhooksModule: ${RAW_BODY_UNAVAILABLE}`);
    }
  }
}

function expressStack(app: unknown): ExpressLayer[] {
  const router =
    (app as { router?: { stack?: unknown }; _router?: { stack?: unknown } }).router ??
    (app as { _router?: { stack?: unknown } })._router;
  return Array.isArray(router?.stack) ? (router.stack as ExpressLayer[]) : [];
}

function isWebhookRoute(layer: ExpressLayer): boolean {
  return !!layer.route?.methods.post && routePath(layer).endsWith(`/${WEBHOOK_PATH}`);
}

function routePath(layer: ExpressLayer): string {
  const path = layer.route!.path;
  return Array.isArray(path) ? path[0] : path;
}

/**
 * Runs the parsers on a tiny JSON POST, as express would: `consumed` when the body was read
 * and no raw bytes were kept (Nest's `rawBody` option keeps them as `req.rawBody`).
 */
async function probe(parsers: ExpressLayer[], path: string): Promise<'ok' | 'consumed'> {
  const body = Buffer.from('{}');
  const req = Object.assign(Readable.from([body], { objectMode: false }), {
    method: 'POST',
    url: path,
    headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
  }) as unknown as IncomingMessage & { rawBody?: unknown };
  for (const layer of parsers) {
    const passed = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
      try {
        layer.handle(req, {}, (error?: unknown) => {
          clearTimeout(timer);
          resolve(!error);
        });
      } catch {
        clearTimeout(timer);
        resolve(false);
      }
    });
    // A parser that fails or hangs on the probe says nothing either way; the first delivery
    // is still checked.
    if (!passed) return 'ok';
  }
  if (Buffer.isBuffer(req.rawBody)) return 'ok';
  return bodyAlreadyRead(req) ? 'consumed' : 'ok';
}
