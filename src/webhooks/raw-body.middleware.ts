import { Inject, Injectable, Logger, NestMiddleware, Optional } from '@nestjs/common';
import { raw } from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { LogLine } from '../common/log-line';
import { requestIdFor } from '../common/request-id';
import { bodyAlreadyRead, RAW_BODY_UNAVAILABLE } from './raw-body.check';
import { SwitchboardMetrics } from '../metrics/switchboard-metrics';
import { WEBHOOKS_MODULE_OPTIONS } from './webhooks.module-definition';
import { DEFAULT_MAX_BODY_BYTES, WebhooksModuleOptions } from './webhooks.options';

/** Request with the exact bytes that arrived: signatures are over those, never re-serialised JSON. */
export interface RequestWithRawBody extends Request {
  rawBody?: Buffer;
}

/**
 * Reads the webhook body as raw bytes, whatever its content type, and refuses one over the
 * limit with 413 before reading it (from Content-Length) or as soon as it grows past it.
 */
@Injectable()
export class RawBodyMiddleware implements NestMiddleware {
  private readonly parse: RequestHandler;
  private readonly logger = new Logger('Webhooks');
  private rawBodyProblemLogged = false;

  constructor(
    @Inject(WEBHOOKS_MODULE_OPTIONS) options: WebhooksModuleOptions,
    @Optional() private readonly metrics?: SwitchboardMetrics,
  ) {
    this.parse = raw({ type: () => true, limit: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES });
  }

  use(req: RequestWithRawBody, res: Response, next: NextFunction): void {
    // An app created with `rawBody: true` has already kept the bytes for us.
    if (Buffer.isBuffer(req.rawBody)) return next();
    // A parser the start-up check could not see read the body first: say what to change, never
    // a signature error that would point at the secret.
    if (bodyAlreadyRead(req)) return this.refuseParsedBody(res);
    this.parse(req, res, (error?: unknown) => {
      if (error) {
        const { status, message } = describeBodyError(error);
        // Refused before the controller: its line, id and count are given here.
        const requestId = requestIdFor(req, res);
        const outcome = status === 413 ? 'too_large' : 'unreadable';
        this.metrics?.webhooksReceived.inc({ type: 'unread', outcome });
        this.logger.warn(
          new LogLine(`webhook ${outcome}`, { status, problem: message, request_id: requestId }),
        );
        res.status(status).json({ statusCode: status, message });
        return;
      }
      // No body at all (no Content-Length, no Transfer-Encoding) is an empty one: it then fails
      // verification like any unsigned delivery, with 401.
      req.rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      next();
    });
  }

  private refuseParsedBody(res: Response): void {
    if (!this.rawBodyProblemLogged) {
      this.rawBodyProblemLogged = true;
      this.logger.error(`webhook deliveries cannot be verified: ${RAW_BODY_UNAVAILABLE}`);
    }
    res.status(500).json({
      statusCode: 500,
      error: 'Internal Server Error',
      reason: 'raw_body_unavailable',
      message: RAW_BODY_UNAVAILABLE,
    });
  }
}

function describeBodyError(error: unknown): { status: number; message: string } {
  const status = (error as { status?: number }).status ?? 400;
  const type = (error as { type?: string }).type;
  if (type === 'entity.too.large') {
    const limit = (error as { limit?: number }).limit;
    return { status: 413, message: `webhook body is larger than the limit of ${limit} bytes` };
  }
  return { status, message: `could not read the webhook body: ${(error as Error).message}` };
}
