import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiHeader, getSchemaPath } from '@nestjs/swagger';
import { UnknownWebhookEventDto } from '../events/unknown-webhook-event.dto';
import { WEBHOOK_EVENT_DTOS } from '../events/webhook-event-types';
import { ApiOperationDocs } from '../docs/api-operation.decorator';
import {
  RawBodyUnavailableDto,
  WebhookInvalidDto,
  WebhookReceivedDto,
  WebhookRefusedDto,
} from './dto/webhook-responses.dto';

const EVENT_CLASSES = Object.values(WEBHOOK_EVENT_DTOS);

/**
 * The webhook body: one of OpenAI's events, keyed by `type`. A type this version does not know
 * is accepted too (stored, acknowledged, handed to wildcard handlers), so the union is open.
 */
const WEBHOOK_BODY = {
  description:
    "One of OpenAI's webhook events, keyed by `type`. A verified event of a type this version " +
    'does not know (OpenAI adds types) is accepted too: stored, acknowledged, and handed to ' +
    'wildcard handlers as an `UnknownWebhookEventDto`.',
  oneOf: EVENT_CLASSES.map((dto) => ({ $ref: getSchemaPath(dto) })),
  discriminator: {
    propertyName: 'type',
    mapping: Object.fromEntries(
      Object.entries(WEBHOOK_EVENT_DTOS).map(([type, dto]) => [type, getSchemaPath(dto)]),
    ),
  },
};

/** The OpenAPI description of `POST /webhooks/openai`. */
export const WebhooksDocs = {
  receive: applyDecorators(
    ApiExtraModels(...EVENT_CLASSES, UnknownWebhookEventDto),
    ApiHeader({ name: 'webhook-id', required: true, description: 'unique per delivery' }),
    ApiHeader({
      name: 'webhook-timestamp',
      required: true,
      description: 'seconds since the epoch; at most 300 s off by default',
    }),
    ApiHeader({
      name: 'webhook-signature',
      required: true,
      description:
        'space-separated `v1,<base64>` HMAC-SHA256 signatures of `id.timestamp.body` (Standard Webhooks)',
    }),
    ApiBody({ schema: WEBHOOK_BODY }),
    ApiOperationDocs({
      summary: "Receive one of OpenAI's webhook deliveries (signed by OpenAI)",
      description:
        'Verified on the raw bytes, validated into the DTO of its type, stored (deduplicated by ' +
        '`webhook-id`) and acknowledged; handlers run after the answer.',
      ok: {
        200: {
          description: 'stored now, or stored before (`duplicate: true`: nothing runs again)',
          type: WebhookReceivedDto,
        },
      },
      errors: {
        400: {
          description:
            'signed, but not a valid event of its type (a ringing call: only without a usable `data.call_id`)',
          type: WebhookInvalidDto,
        },
        401: {
          description: 'missing, malformed, stale, future or wrong signature; nothing stored',
          type: WebhookRefusedDto,
        },
        408: 'the body did not arrive within `BODY_TIMEOUT_MS` (10 s by default); connection closed',
        413: 'the body is over the limit (`MAX_BODY_BYTES`, 1 MiB by default): refused from Content-Length before reading, or as soon as it grows past it; connection closed',
        415: 'a compressed body (Content-Encoding): inflating it would defeat the size limit',
        500: {
          description:
            'the host app read the body before Switchboard could keep its raw bytes (see the README)',
          type: RawBodyUnavailableDto,
        },
      },
    }),
  ),
};
