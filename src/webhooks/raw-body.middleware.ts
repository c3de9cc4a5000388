import { Inject, Injectable, Logger, NestMiddleware, Optional } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { BodyLimits, DEFAULT_BODY_TIMEOUT_MS } from '../common/http/body-limits';
import { readBoundedBody } from '../common/http/read-bounded-body';
import { refuseRequest } from '../common/http/refuse-request';
import { requestIdFor } from '../common/request-id';
import { SwitchboardMetrics } from '../metrics/switchboard-metrics';
import { WEBHOOKS_MODULE_OPTIONS } from './webhooks.module-definition';
import { DEFAULT_MAX_BODY_BYTES, WebhooksModuleOptions } from './webhooks.options';

/** Request with the exact bytes that arrived: signatures are over those, never re-serialised JSON. */
export interface RequestWithRawBody extends Request {
  rawBody?: Buffer;
}

/**
 * Reads the webhook body as raw bytes, whatever its content type, within the limits: over
 * the size limit it is refused with 413 before reading (from Content-Length) or as soon as it
 * grows past it, too slow with 408; either way the connection closes without reading the rest.
 */
@Injectable()
export class RawBodyMiddleware implements NestMiddleware {
  private readonly limits: BodyLimits;
  private readonly logger = new Logger('Webhooks');

  constructor(
    @Inject(WEBHOOKS_MODULE_OPTIONS) options: WebhooksModuleOptions,
    @Optional() private readonly metrics?: SwitchboardMetrics,
  ) {
    this.limits = {
      maxBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      timeoutMs: options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS,
    };
  }

  async use(req: RequestWithRawBody, res: Response, next: NextFunction): Promise<void> {
    // An app created with `rawBody: true` has already kept the bytes for us.
    if (Buffer.isBuffer(req.rawBody)) return next();
    const read = await readBoundedBody(req, this.limits);
    if (!read.ok) {
      // Refused before the controller: its line, id and count are given here.
      const outcome = read.reason === 'unsupported' ? 'unreadable' : read.reason;
      this.metrics?.webhooksReceived.inc({ type: 'unread', outcome });
      this.logger.warn({
        msg: `webhook ${outcome}`,
        request_id: requestIdFor(req, res),
        status: read.status,
        problem: read.message,
      });
      refuseRequest(res, read.status, `webhook refused: ${read.message}`);
      return;
    }
    // No body at all (no Content-Length, no Transfer-Encoding) is an empty one: it then fails
    // verification like any unsigned delivery, with 401.
    req.rawBody = read.body;
    next();
  }
}
