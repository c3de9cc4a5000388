import { DynamicModule, Module } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { LoggerModule } from 'nestjs-pino';

export interface LoggingOptions {
  level: string;
  /** Human-readable lines (development), else one JSON object per line. */
  pretty: boolean;
  /** Extra pino redaction paths, e.g. `req.headers["x-api-key"]`. */
  redact: string[];
}

/** Always redacted: bearer tokens, signatures, cookies, and tokens in URLs. */
export const DEFAULT_REDACTIONS = [
  'req.headers.authorization',
  'req.headers["webhook-signature"]',
  'req.headers.cookie',
  'req.query.token',
];

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * Structured logs through pino (nestjs-pino): every request line carries a request id (the
 * caller's `X-Request-Id` when it is sane, else a new one, echoed back) and, for webhooks, the
 * `webhook-id`. Nest's own `Logger` calls go to the same place.
 */
@Module({})
export class LoggingModule {
  static forRoot(options: LoggingOptions): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: options.level,
            redact: { paths: [...DEFAULT_REDACTIONS, ...options.redact], censor: '[redacted]' },
            genReqId: (req: IncomingMessage, res: ServerResponse) => {
              const given = req.headers['x-request-id'];
              const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
              res.setHeader('X-Request-Id', id);
              return id;
            },
            // Request lines name the request, not its headers: those carry signatures and tokens.
            serializers: {
              req: (req: { id: unknown; method: string; url: string }) => ({
                id: req.id,
                method: req.method,
                url: req.url,
              }),
              res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
            },
            customProps: (req: IncomingMessage) => {
              const webhookId = req.headers['webhook-id'];
              return typeof webhookId === 'string' ? { webhook_id: webhookId.slice(0, 256) } : {};
            },
            // Health probes every few seconds would drown everything else.
            autoLogging: {
              ignore: (req: IncomingMessage) => req.url === '/healthz' || req.url === '/readyz',
            },
            ...(options.pretty && prettyAvailable()
              ? {
                  transport: {
                    target: 'pino-pretty',
                    options: { singleLine: true, colorize: true },
                  },
                }
              : {}),
          },
        }),
      ],
    };
  }
}

/** pino-pretty is a development dependency: a production image logs JSON whatever it is told. */
function prettyAvailable(): boolean {
  try {
    require.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
