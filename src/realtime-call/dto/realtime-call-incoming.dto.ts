import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  Equals,
  IsArray,
  IsNotEmpty,
  IsObject,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { WebhookEventDto } from '../../common/dto/webhook-event.dto';

/** Bounds on caller-controlled data: a SIP INVITE is untrusted input. */
export const MAX_SIP_HEADERS = 256;
export const MAX_SIP_HEADER_NAME_LENGTH = 128;
export const MAX_SIP_HEADER_VALUE_LENGTH = 8192;

/** One header of the SIP INVITE, in the order OpenAI received them. */
export class SipHeaderDto {
  /** Name of the SIP header, as sent (any case, possibly the compact form). */
  @IsString()
  @IsNotEmpty()
  @MaxLength(MAX_SIP_HEADER_NAME_LENGTH)
  name!: string;

  /** Value of the SIP header. */
  @IsString()
  @MaxLength(MAX_SIP_HEADER_VALUE_LENGTH)
  value!: string;
}

export class RealtimeCallIncomingDataDto {
  /** The unique ID of this call, used by the call control API. */
  @IsString()
  @IsNotEmpty()
  call_id!: string;

  /** Headers from the SIP INVITE. */
  @IsArray()
  @ArrayMaxSize(MAX_SIP_HEADERS)
  @ValidateNested({ each: true })
  @Type(() => SipHeaderDto)
  sip_headers!: SipHeaderDto[];
}

/** `realtime.call.incoming`: a SIP call is ringing and waits for accept, reject or refer. */
export class RealtimeCallIncomingEvent extends WebhookEventDto {
  @Equals('realtime.call.incoming')
  type!: 'realtime.call.incoming';

  @IsObject()
  @ValidateNested()
  @Type(() => RealtimeCallIncomingDataDto)
  data!: RealtimeCallIncomingDataDto;
}

export const REALTIME_CALL_EVENTS = {
  'realtime.call.incoming': RealtimeCallIncomingEvent,
} as const;
