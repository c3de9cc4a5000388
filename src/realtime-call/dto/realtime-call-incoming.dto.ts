import { Type } from 'class-transformer';
import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsObject, IsString, ValidateNested } from 'class-validator';
import { EventType } from '../../common/dto/event-type.decorator';
import { WebhookEventDto } from '../../common/dto/webhook-event.dto';
import { IsSipHeaderList } from './is-sip-header-list.validator';

/** Bounds on caller-controlled data: a SIP INVITE is untrusted input. */
export const MAX_SIP_HEADERS = 256;
export const MAX_SIP_HEADER_NAME_LENGTH = 128;
export const MAX_SIP_HEADER_VALUE_LENGTH = 8192;

/**
 * One header of the SIP INVITE, in the order OpenAI received them. Checked as part of the
 * list by `@IsSipHeaderList` (one pass over all headers, not a nested validation each).
 */
export class SipHeaderDto {
  /** Name of the SIP header, as sent (any case, possibly the compact form). */
  @ApiProperty()
  name!: string;

  /** Value of the SIP header. */
  @ApiProperty()
  value!: string;
}

export class RealtimeCallIncomingDataDto {
  /** The unique ID of this call, used by the call control API. */
  @ApiProperty()
  @IsString()
  @IsNotEmpty()
  call_id!: string;

  /** Headers from the SIP INVITE. */
  @ApiProperty({ type: [SipHeaderDto] })
  @IsSipHeaderList({
    maxHeaders: MAX_SIP_HEADERS,
    maxNameLength: MAX_SIP_HEADER_NAME_LENGTH,
    maxValueLength: MAX_SIP_HEADER_VALUE_LENGTH,
  })
  @Type(() => SipHeaderDto)
  sip_headers!: SipHeaderDto[];
}

/** `realtime.call.incoming`: a SIP call is ringing and waits for accept, reject or refer. */
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
