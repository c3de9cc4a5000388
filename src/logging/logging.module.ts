import { DynamicModule, Module, RequestMethod } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { requestIdFor } from '../common/request-id';
import { WEBHOOK_PATH } from '../webhooks/webhooks.controller';
import { LoggerModule } from 'nestjs-pino';
import { destination } from 'pino';
import type { Options as PinoHttpOptions } from 'pino-http';

export interface LoggingOptions {
  level: string;
  /** Human-readable lines (development), else one JSON object per line. */
  pretty: boolean;
  /** Extra pino redaction paths, e.g. `req.headers["x-api-key"]`. */
  redact: string[];
}

/**
 * Structured logs through pino (nestjs-pino): every request line carries a request id (the
 * caller's `X-Request-Id` when it is sane, else a new one, echoed back); webhook deliveries get
 * one line each from the webhook controller with their webhook id and event id. Nest's own
 * `Logger` calls go to the same place.
 */
@Module({})
export class LoggingModule {
  static forRoot(options: LoggingOptions): DynamicModule {
    const http: PinoHttpOptions = {
      level: options.level,
      // Headers are never logged (see serializers); LOG_REDACT masks fields a deployment deems
      // sensitive, e.g. `webhook_id` or `event_id`.
      ...(options.redact.length > 0
        ? { redact: { paths: options.redact, censor: '[redacted]' } }
        : {}),
      genReqId: requestIdFor,
      // Request lines name the request, not its headers (those carry signatures and tokens),
      // and a `?token=` in the URL is masked.
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url.replace(/([?&]token=)[^&]*/g, '$1[redacted]'),
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      // Health probes every few seconds would drown everything else.
      autoLogging: {
        ignore: (req: IncomingMessage) => req.url === '/healthz' || req.url === '/readyz',
      },
    };
    const pretty = options.pretty && prettyAvailable();
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          // The webhook route logs its own line (request id, webhook id, event id, outcome):
          // the per-request context pino-http keeps would cost a quarter of its throughput.
          exclude: [{ method: RequestMethod.POST, path: WEBHOOK_PATH }],
          pinoHttp: pretty
            ? {
                ...http,
                transport: { target: 'pino-pretty', options: { singleLine: true, colorize: true } },
              }
            : // Writes do not block the event loop that answers webhooks; the buffer is flushed
              // on exit (the service exits with process.exit after its drain).
              [http, destination({ dest: 1, sync: false })],
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
