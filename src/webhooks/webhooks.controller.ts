import {
  BadRequestException,
  Controller,
  HttpCode,
  InternalServerErrorException,
  Logger,
  Post,
  Req,
  Res,
  UnauthorizedException,
} from '@nestjs/common';
import type { Response } from 'express';
import { requestIdFor } from '../common/request-id';
import { ApiBody, ApiHeader, ApiResponse, ApiTags } from '@nestjs/swagger';
import { RequestWithRawBody } from './raw-body.middleware';
import { IngestOutcome, WebhookIngestService } from './webhook-ingest.service';

export const WEBHOOK_PATH = 'webhooks/openai';

@ApiTags('webhooks')
@Controller()
export class WebhooksController {
  private readonly logger = new Logger('Webhooks');

  constructor(private readonly ingest: WebhookIngestService) {}

  /** OpenAI's deliveries. 200 once the event is stored (or was stored before). */
  @Post(WEBHOOK_PATH)
  @ApiHeader({ name: 'webhook-id', required: true })
  @ApiHeader({ name: 'webhook-timestamp', required: true })
  @ApiHeader({
    name: 'webhook-signature',
    required: true,
    description: 'space-separated v1,<base64> HMAC-SHA256 signatures',
  })
  @ApiBody({
    schema: {
      type: 'object',
      description: 'one of the fifteen OpenAI webhook events (or a newer type)',
    },
  })
  @ApiResponse({ status: 200, description: 'stored (or stored before: duplicate)' })
  @ApiResponse({
    status: 400,
    description:
      'signed, but not a valid event of its type (a ringing call: only without a usable data.call_id)',
  })
  @ApiResponse({ status: 401, description: 'missing, stale or wrong signature' })
  @ApiResponse({ status: 408, description: 'the body did not arrive in time; connection closed' })
  @ApiResponse({
    status: 413,
    description: 'body over the limit, refused before reading the rest; connection closed',
  })
  @ApiResponse({ status: 415, description: 'a compressed body (Content-Encoding)' })
  @HttpCode(200)
  async receive(@Req() req: RequestWithRawBody, @Res({ passthrough: true }) res: Response) {
    const requestId = requestIdFor(req, res);
    if (!Buffer.isBuffer(req.rawBody)) {
      throw new InternalServerErrorException(
        'the raw request body is not available: create the Nest app with { rawBody: true } or { bodyParser: false }',
      );
    }
    const outcome = await this.ingest.ingest(req.headers, req.rawBody);
    this.log(outcome, requestId, req.headers['webhook-id']);
    switch (outcome.status) {
      case 'accepted':
        return { received: true, duplicate: false, seq: outcome.seq, type: outcome.type };
      case 'duplicate':
        return { received: true, duplicate: true, seq: outcome.seq, type: outcome.type };
      case 'unauthorized':
        throw new UnauthorizedException({
          statusCode: 401,
          error: 'Unauthorized',
          reason: outcome.reason,
          message: outcome.message,
        });
      case 'invalid':
        throw new BadRequestException({
          statusCode: 400,
          error: 'Bad Request',
          message: outcome.message,
          errors: outcome.errors,
        });
      default: {
        const unreachable: never = outcome;
        throw new Error(`unhandled outcome ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /** One structured line per delivery: request id, webhook id, event id and what became of it. */
  private log(
    outcome: IngestOutcome,
    requestId: string,
    webhookId: string | string[] | undefined,
  ): void {
    const ids = {
      request_id: requestId,
      webhook_id: typeof webhookId === 'string' ? webhookId.slice(0, 256) : undefined,
    };
    switch (outcome.status) {
      case 'accepted':
      case 'duplicate':
        this.logger.log({
          msg: `webhook ${outcome.status}`,
          ...ids,
          event_id: outcome.eventId,
          type: outcome.type,
          seq: outcome.seq,
        });
        return;
      case 'unauthorized':
        this.logger.warn({ msg: 'webhook refused', ...ids, reason: outcome.reason });
        return;
      default:
        this.logger.warn({
          msg: 'webhook invalid',
          ...ids,
          problem: outcome.message.slice(0, 500),
        });
    }
  }
}
