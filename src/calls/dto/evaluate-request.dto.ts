import {
  ArrayMaxSize,
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsIn,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
} from 'class-validator';
import { SURFACE_NAMES, SurfaceName } from '../surfaces/surface-name';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { RoutingRulesDocumentDto } from '../rules/dto/routing-rules.dto';
import { IsSipHeaderList } from '../../realtime-call/dto/is-sip-header-list.validator';
import {
  MAX_SIP_HEADER_NAME_LENGTH,
  MAX_SIP_HEADER_VALUE_LENGTH,
  MAX_SIP_HEADERS,
  SipHeaderDto,
} from '../../realtime-call/dto/realtime-call-incoming.dto';

/** `POST /rules/evaluate`: a call to try against the rules, without calling anyone. */
export class EvaluateRequestDto {
  /** The INVITE's headers, as OpenAI would send them. */
  @ApiProperty({ type: [SipHeaderDto] })
  @IsSipHeaderList({
    maxHeaders: MAX_SIP_HEADERS,
    maxNameLength: MAX_SIP_HEADER_NAME_LENGTH,
    maxValueLength: MAX_SIP_HEADER_VALUE_LENGTH,
  })
  sip_headers!: SipHeaderDto[];

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(200)
  call_id?: string;

  /**
   * The surfaces that announced the call, in order of arrival (`["live", "realtime"]`: Live
   * first). Default `["realtime"]`. An accept for a surface not in the list falls back as it
   * would once the twin wait is over.
   */
  @ApiPropertyOptional({ enum: SURFACE_NAMES, isArray: true, default: ['realtime'] })
  @IsOptional()
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(2)
  @ArrayUnique()
  @IsIn(SURFACE_NAMES, { each: true, message: 'each of surfaces must be realtime or live' })
  surfaces?: SurfaceName[];

  /** What the announcements say about the media (`rtp`, `srtp`...). Default: not said. */
  @ApiPropertyOptional({ example: 'srtp' })
  @IsOptional()
  @IsString()
  @Matches(/^[\x21-\x7e]{1,64}$/, {
    message: 'sip_media_security must be 1 to 64 visible ASCII characters',
  })
  sip_media_security?: string;

  /** When the call rings (ISO 8601), for time windows. Default: now. */
  @ApiPropertyOptional()
  @IsOptional()
  @IsISO8601({ strict: true })
  at?: string;

  /** A rule set to try instead of the live one (same schema as the rules file). */
  @ApiPropertyOptional({
    type: () => RoutingRulesDocumentDto,
    description: 'a rule set to try instead of the live one',
  })
  @IsOptional()
  @IsObject()
  rules?: Record<string, unknown>;
}
