// class-transformer's @Type reads design metadata; rules are also compiled outside a Nest app (CLI).
import 'reflect-metadata';
import { Type } from 'class-transformer';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

/**
 * A Live session config (`/v1/live/sessions/{id}/accept`), under `accept.live`. The fields named
 * here are checked; any other field OpenAI accepts is passed through as written. Every string
 * may be a template. Over SIP, `audio.format` is omitted and tools go under `delegation`.
 */
export class LiveSessionDto {
  /** Always `live` (the default). */
  @ApiPropertyOptional()
  @IsOptional()
  @IsIn(['live'])
  type?: 'live';

  /** The Live model, e.g. `gpt-live-1`. */
  @ApiProperty({ example: 'gpt-live-1' })
  @IsString()
  @IsNotEmpty()
  model!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(100_000)
  instructions?: string;

  /** e.g. `{ output: { voice: "marin" } }`; no `format` over SIP. */
  @ApiPropertyOptional()
  @IsOptional()
  @IsObject()
  audio?: Record<string, unknown>;

  /** Where tools live: `{ type: "responses", responses: { model, instructions, tools } }`. */
  @ApiPropertyOptional()
  @IsOptional()
  @IsObject()
  delegation?: Record<string, unknown>;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  store?: boolean;

  [passThrough: string]: unknown;
}

/**
 * `accept`: the session config passed through to OpenAI's `realtime.calls.accept`. The fields
 * named here are checked; any other field OpenAI accepts is passed through as written. Every
 * string may be a template (`{{headers.x-account-tier}}`).
 *
 * Or, naming the surfaces the call may be answered on: `realtime` and/or `live`, each a session
 * config of that surface, and with both, optionally `prefer` (the one to wait for, bounded by
 * `TWIN_WAIT_MS`, when the call has not been announced on it yet). The plain form is a Realtime
 * accept, as it always was.
 */
export class AcceptActionDto {
  /** Always `realtime` (the default). */
  @ApiPropertyOptional()
  @IsOptional()
  @IsIn(['realtime'])
  type?: 'realtime';

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  model?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(100_000)
  instructions?: string;

  /** e.g. `{ output: { voice: "marin" } }` */
  @ApiPropertyOptional()
  @IsOptional()
  @IsObject()
  audio?: Record<string, unknown>;

  @ApiPropertyOptional({ type: 'array', items: { type: 'object' } })
  @IsOptional()
  @IsArray()
  tools?: Record<string, unknown>[];

  @ApiPropertyOptional({ oneOf: [{ type: 'string' }, { type: 'object' }] })
  @IsOptional()
  tool_choice?: string | Record<string, unknown>;

  @ApiPropertyOptional({ oneOf: [{ type: 'string' }, { type: 'object' }], nullable: true })
  @IsOptional()
  tracing?: 'auto' | Record<string, unknown> | null;

  /** The Realtime session, when the accept names its surfaces. */
  @ApiPropertyOptional({ type: () => AcceptActionDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => AcceptActionDto)
  realtime?: AcceptActionDto;

  /** The Live session, when the accept names its surfaces. */
  @ApiPropertyOptional({ type: () => LiveSessionDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => LiveSessionDto)
  live?: LiveSessionDto;

  /** With both sessions: the surface to answer on, waiting for its announcement if need be. */
  @ApiPropertyOptional({ enum: ['realtime', 'live'] })
  @IsOptional()
  @IsIn(['realtime', 'live'])
  prefer?: 'realtime' | 'live';

  [passThrough: string]: unknown;
}

/** `reject`: answer the INVITE with a SIP status code (default 603 Decline). */
export class RejectActionDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsInt()
  @Min(400)
  @Max(699)
  status_code?: number;
}

/**
 * `refer`: transfer the call (SIP REFER) to a `sip:`, `sips:` or `tel:` URI; may be a template.
 * The compiler checks the URI itself (a static one on save, a rendered one per call).
 */
export class ReferActionDto {
  @ApiProperty()
  @IsString()
  @Matches(/^(sips?|tel):/i, { message: 'target_uri must be a sip:, sips: or tel: URI' })
  @MaxLength(2048)
  target_uri!: string;

  /**
   * URI globs (`*`, `?`) the rendered target must match, e.g. `sip:2??@pbx.example.com`: how far
   * caller data in `target_uri` may steer the transfer.
   */
  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(2048, { each: true })
  allowed_targets?: string[];
}

/** Exactly one of `accept`, `reject`, `refer`. */
export class RouteActionDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => AcceptActionDto)
  accept?: AcceptActionDto;

  @ApiPropertyOptional()
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => RejectActionDto)
  reject?: RejectActionDto;

  @ApiPropertyOptional()
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ReferActionDto)
  refer?: ReferActionDto;
}

/** One routing rule. Rules run in `priority` order (lower first), then in the order written. */
export class RoutingRuleDto {
  /** Unique, stable name: shown in explanations, call records and metrics. */
  @ApiProperty()
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, {
    message: 'id must be 1-64 letters, digits, "_", "." or "-", starting with a letter or digit',
  })
  id!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;

  /** Lower runs first; default 100; equal priorities keep the written order. */
  @ApiPropertyOptional()
  @IsOptional()
  @IsInt()
  @Min(-1_000_000)
  @Max(1_000_000)
  priority?: number;

  /** A disabled rule is kept but never matches. Default true. */
  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  /** The condition; omitted, the rule matches every call. Checked by the condition compiler. */
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      'the condition (see the README): { field|header, <operator> }, all, any, not, time',
  })
  @IsOptional()
  @IsObject()
  when?: Record<string, unknown>;

  @ApiProperty()
  @IsObject()
  @ValidateNested()
  @Type(() => RouteActionDto)
  action!: RouteActionDto;
}

export class RoutingSettingsDto {
  /** ISO 3166 country for national numbers (`US`, `DE`...). Default `US`. */
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Matches(/^[A-Z]{2}$/, {
    message: 'default_country must be an ISO 3166 alpha-2 code such as US or DE',
  })
  default_country?: string;

  /** IANA time zone for time windows that do not name one. Default `UTC`. */
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  timezone?: string;
}

/** A whole rule set, as in `RULES_FILE` or `PUT /rules`. */
export class RoutingRulesDocumentDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsIn([1])
  version?: 1;

  @ApiPropertyOptional()
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => RoutingSettingsDto)
  settings?: RoutingSettingsDto;

  @ApiProperty({ type: [RoutingRuleDto] })
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => RoutingRuleDto)
  rules!: RoutingRuleDto[];

  /** When no rule matches. Default: reject with 404 (nothing routes this number). */
  @ApiPropertyOptional()
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => RouteActionDto)
  default?: RouteActionDto;

  /** When evaluating the rules fails. Default: reject with 500. */
  @ApiPropertyOptional()
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => RouteActionDto)
  on_error?: RouteActionDto;
}
