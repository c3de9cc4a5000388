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
import {
  CallEventAdjustments,
  SipHeaderDto,
  USABLE_CALL_ID,
} from '../../realtime-call/dto/realtime-call-incoming.dto';

/**
 * What a Live event says about a ringing SIP call: the session to address through
 * `/v1/live/sessions/{session_id}/...`, and the INVITE's headers (bounded like a Realtime call's).
 */
export class LiveCallIncomingDataDto {
  /**
   * The pending session's id (`live_...`), used by the Live call control API. Early Live events
   * carried the Realtime `rtc_...` id here: the same value as the twin's `call_id`.
   */
  @ApiProperty({ example: 'live_685343a1381c819085d44c354e1b330e' })
  @IsString()
  @Matches(USABLE_CALL_ID, {
    message:
      'session_id must be 1 to 256 visible ASCII characters (no spaces), and not "." or ".."',
  })
  session_id!: string;

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

export class LiveTransportIncomingDataDto extends LiveCallIncomingDataDto {
  /** The transport: `sip` for a phone call (the only kind Switchboard routes). */
  @ApiPropertyOptional({ example: 'sip' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  type?: string;
}

/**
 * `live.transport.incoming`: a SIP call is ringing and waits for accept, reject or refer on the
 * Live surface (`gpt-live-1`). The same INVITE is usually also announced as
 * `realtime.call.incoming`; the first successful accept on either surface picks the surface.
 */
export class LiveTransportIncomingEvent extends WebhookEventDto {
  @EventType('live.transport.incoming')
  type!: 'live.transport.incoming';

  @ApiProperty()
  @IsObject()
  @ValidateNested()
  @Type(() => LiveTransportIncomingDataDto)
  data!: LiveTransportIncomingDataDto;
}

/**
 * `live.call.incoming`: the deprecated name of `live.transport.incoming`, still delivered to
 * subscriptions made before it. Routed the same way.
 */
export class LiveCallIncomingEvent extends WebhookEventDto {
  @EventType('live.call.incoming')
  type!: 'live.call.incoming';

  @ApiProperty()
  @IsObject()
  @ValidateNested()
  @Type(() => LiveCallIncomingDataDto)
  data!: LiveCallIncomingDataDto;
}

export const LIVE_CALL_EVENTS = {
  'live.transport.incoming': LiveTransportIncomingEvent,
  'live.call.incoming': LiveCallIncomingEvent,
} as const;
