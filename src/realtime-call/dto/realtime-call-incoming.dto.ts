import { Type } from 'class-transformer';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsArray,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { EventType } from '../../common/dto/event-type.decorator';
import { WebhookEventDto } from '../../common/dto/webhook-event.dto';
import type { ReplacedField } from '../../events/event-intake';
import { SIP_HEADER_LIMITS, SipHeadersCut } from '../sip-header-limits';

/** Bounds on caller-controlled data: a SIP INVITE is untrusted input. */
export const MAX_SIP_HEADERS = SIP_HEADER_LIMITS.maxHeaders;
export const MAX_SIP_HEADER_NAME_LENGTH = SIP_HEADER_LIMITS.maxNameLength;
export const MAX_SIP_HEADER_VALUE_LENGTH = SIP_HEADER_LIMITS.maxValueLength;

/**
 * A call id the call-control API can address: visible ASCII, bounded, and not a `.` or `..`
 * path segment (the SDK puts it in the request path).
 */
export const USABLE_CALL_ID = /^(?!\.{1,2}$)[\x21-\x7e]{1,256}$/;

/**
 * One header of the SIP INVITE, in the order OpenAI received them. In a
 * `realtime.call.incoming` event both are always strings within the limits: the list is
 * bounded before validation (see `SIP_HEADER_LIMITS`).
 */
export class SipHeaderDto {
  /** Name of the SIP header, as sent (any case, possibly the compact form). */
  @ApiProperty()
  name!: string;

  /** Value of the SIP header. */
  @ApiProperty()
  value!: string;
}

/**
 * Added by Switchboard, not sent by OpenAI: what was cut or replaced so that an odd call event
 * could still be decided. Absent when the event arrived within every limit.
 */
export interface CallEventAdjustments {
  /** What was dropped from or cut in `sip_headers`. */
  sip_headers?: SipHeadersCut;
  /**
   * Envelope fields (`id`, `created_at`, `object`) that were unusable, and what replaced them;
   * and optional words of `data` (`data.sip_media_security`) that were dropped as unusable.
   */
  replaced?: ReplacedField[];
}

export class RealtimeCallIncomingDataDto {
  /** The unique ID of this call, used by the call control API. The one field a call cannot do without. */
  @ApiProperty()
  @IsString()
  @Matches(USABLE_CALL_ID, {
    message: 'call_id must be 1 to 256 visible ASCII characters (no spaces), and not "." or ".."',
  })
  call_id!: string;

  /** Headers from the SIP INVITE, bounded: at most 256, names RFC 3261 tokens, values cut to 8,192 characters. */
  @ApiProperty({ type: [SipHeaderDto] })
  @IsArray()
  @Type(() => SipHeaderDto)
  sip_headers!: SipHeaderDto[];

  /** How the INVITE offered its media: `rtp`, `srtp`, or a newer word; absent when not said. */
  @ApiPropertyOptional({ example: 'srtp' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  sip_media_security?: string;

  /** Switchboard's note of what it cut or replaced; absent when nothing was. */
  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject()
  adjustments?: CallEventAdjustments;
}

/**
 * `realtime.call.incoming`: a SIP call is ringing and waits for accept, reject or refer. The same
 * INVITE may also be announced on the Live surface (`live.transport.incoming`): see `src/live-call`.
 */
export class RealtimeCallIncomingEvent extends WebhookEventDto {
  @EventType('realtime.call.incoming')
  type!: 'realtime.call.incoming';

  @ApiProperty()
  @IsObject()
  @ValidateNested()
  @Type(() => RealtimeCallIncomingDataDto)
  data!: RealtimeCallIncomingDataDto;
}

export const REALTIME_CALL_EVENTS = {
  'realtime.call.incoming': RealtimeCallIncomingEvent,
} as const;
