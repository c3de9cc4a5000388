import { ApiProperty } from '@nestjs/swagger';
import type { FieldError } from '../../events/webhook-event.parser';
import type { SignatureFailure } from '../signature/webhook-signature.verifier';

/** Every reason a signature is refused (a Record, so a new reason cannot go undocumented). */
const SIGNATURE_FAILURES: Record<SignatureFailure, string> = {
  missing_headers: 'a webhook-id, webhook-timestamp or webhook-signature header is missing',
  malformed_id: 'the webhook-id is not usable',
  malformed_timestamp: 'the webhook-timestamp is not whole seconds',
  timestamp_too_old: 'the timestamp is older than the tolerance (300 s by default)',
  timestamp_too_new: 'the timestamp is further ahead than the tolerance',
  no_v1_signature: 'no `v1,<base64>` signature of 32 bytes',
  signature_mismatch: 'no signature matches any configured secret',
};

export class WebhookReceivedDto {
  @ApiProperty({ enum: [true] })
  received!: true;

  @ApiProperty({ description: 'true when this `webhook-id` was stored before: nothing runs again' })
  duplicate!: boolean;

  @ApiProperty({ description: "the event's sequence number in the store", example: 1 })
  seq!: number;

  @ApiProperty({ example: 'realtime.call.incoming' })
  type!: string;
}

/** A delivery whose signature does not hold: nothing is stored. */
export class WebhookRefusedDto {
  @ApiProperty({ enum: [401] })
  statusCode!: 401;

  @ApiProperty({ example: 'Unauthorized' })
  error!: string;

  @ApiProperty({
    enum: Object.keys(SIGNATURE_FAILURES),
    description: Object.entries(SIGNATURE_FAILURES)
      .map(([reason, meaning]) => `\`${reason}\`: ${meaning}`)
      .join('; '),
    example: 'signature_mismatch',
  })
  reason!: SignatureFailure;

  @ApiProperty({ example: 'no signature matches any configured secret' })
  message!: string;
}

export class FieldErrorDto implements FieldError {
  @ApiProperty({
    description: 'dotted path of the failing field',
    example: 'data.sip_headers.0.name',
  })
  path!: string;

  @ApiProperty({ type: [String] })
  problems!: string[];
}

/** Signed, but not a valid event of its type. */
export class WebhookInvalidDto {
  @ApiProperty({ enum: [400] })
  statusCode!: 400;

  @ApiProperty({ example: 'Bad Request' })
  error!: string;

  @ApiProperty({ example: 'invalid batch.completed event: data.id' })
  message!: string;

  @ApiProperty({ type: [FieldErrorDto] })
  errors!: FieldErrorDto[];
}

/** The raw bytes were gone before the signature could be checked: the host app's set-up. */
export class RawBodyUnavailableDto {
  @ApiProperty({ enum: [500] })
  statusCode!: 500;

  @ApiProperty({ enum: ['raw_body_unavailable'] })
  reason!: string;

  @ApiProperty({ description: 'what to change in the app that embeds the module' })
  message!: string;
}
