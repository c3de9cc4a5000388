import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { SipHeaderDto } from '../../realtime-call/dto/realtime-call-incoming.dto';
import type { Decision, Explanation, RuleFailure } from '../rules/rule-set';
import type { RenderedAction } from '../rules/route-action';
import type {
  CallRecord,
  CallStatus,
  ControlOutcome,
  OperatorAction,
  SurfaceArrival,
  LateOutcome,
} from '../store/call-store';
import { SURFACE_NAMES, SurfaceName } from '../surfaces/surface-name';

export class AcceptedActionDto {
  @ApiProperty({ enum: ['accept'] })
  type!: 'accept';

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      'the session config sent to OpenAI, every template filled in (a Realtime session, or, in `request`, the session of the surface it goes to)',
  })
  session?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: 'object',
    properties: {
      realtime: { type: 'object', additionalProperties: true },
      live: { type: 'object', additionalProperties: true },
    },
    description: 'an accept that names its surfaces: the session config of each',
  })
  sessions?: Record<string, Record<string, unknown>>;

  @ApiPropertyOptional({ enum: SURFACE_NAMES, description: 'the surface the accept prefers' })
  prefer?: SurfaceName;
}

export class RejectedActionDto {
  @ApiProperty({ enum: ['reject'] })
  type!: 'reject';

  @ApiProperty({ example: 603 })
  status_code!: number;
}

export class ReferredActionDto {
  @ApiProperty({ enum: ['refer'] })
  type!: 'refer';

  @ApiProperty({ example: 'tel:+14155550199' })
  target_uri!: string;
}

/** What Switchboard asks (or would ask, in a dry run) OpenAI to do with the call. */
const RENDERED_ACTION = {
  oneOf: [AcceptedActionDto, RejectedActionDto, ReferredActionDto].map((dto) => ({
    $ref: getSchemaPath(dto),
  })),
  discriminator: { propertyName: 'type' },
};

export class RuleFailureDto implements RuleFailure {
  @ApiProperty({ example: 'vip-support' })
  rule!: string;

  @ApiProperty({
    description: 'the condition that did not hold',
    example: 'header X-Account-Tier in [gold, platinum]',
  })
  failed!: string;
}

export class ExplanationDto implements Explanation {
  @ApiProperty({ type: 'string', nullable: true, description: 'the rule that matched' })
  matched!: string | null;

  @ApiProperty({
    type: [RuleFailureDto],
    description: 'each rule evaluated before the match, and why it failed',
  })
  rules_before!: RuleFailureDto[];

  @ApiProperty({ description: 'rules the exact-match index ruled out without evaluating them' })
  skipped_by_index!: number;

  @ApiPropertyOptional({ description: 'why evaluating failed (route `on_error`)' })
  error?: string;
}

@ApiExtraModels(AcceptedActionDto, RejectedActionDto, ReferredActionDto)
export class DecisionDto implements Decision {
  @ApiProperty({ enum: ['rule', 'default', 'on_error'] })
  route!: 'rule' | 'default' | 'on_error';

  @ApiProperty({ type: 'string', nullable: true, example: 'vip-support' })
  rule!: string | null;

  @ApiProperty(RENDERED_ACTION)
  action!: RenderedAction;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    description: 'named regex captures of the matching rule',
  })
  captures!: Record<string, string>;

  @ApiProperty({ type: ExplanationDto })
  explanation!: ExplanationDto;

  @ApiProperty({ example: '53e8670c9e3a289b' })
  rules_version!: string;
}

/**
 * `POST /rules/evaluate`: the decision, with every rule explained, where it goes (`surface`,
 * `request`), and the rule set's warnings.
 */
export class EvaluationDto extends DecisionDto {
  @ApiProperty({
    enum: SURFACE_NAMES,
    description: 'the surface the request goes to, among those that announced the call',
  })
  surface!: SurfaceName;

  @ApiProperty({
    ...RENDERED_ACTION,
    description: 'what is sent there: for an accept, the session of that surface',
  })
  request!: RenderedAction;

  @ApiProperty({ type: [String] })
  warnings!: string[];
}

export class ControlOutcomeDto implements ControlOutcome {
  @ApiProperty()
  ok!: boolean;

  @ApiPropertyOptional({
    description: "HTTP status of OpenAI's last answer; absent for network errors and timeouts",
  })
  status?: number;

  @ApiProperty()
  attempts!: number;

  @ApiPropertyOptional()
  error?: string;

  @ApiProperty()
  duration_ms!: number;
}

export class DryRunOutcomeDto {
  @ApiProperty({ enum: [true], description: 'no OPENAI_API_KEY: recorded, not sent' })
  dry_run!: true;
}

@ApiExtraModels(ControlOutcomeDto, DryRunOutcomeDto)
export class OperatorActionDto implements OperatorAction {
  @ApiProperty({ enum: ['hangup', 'refer', 'message'] })
  action!: 'hangup' | 'refer' | 'message';

  @ApiPropertyOptional()
  target_uri?: string;

  @ApiPropertyOptional({ description: 'a `message`: the text put into the conversation' })
  text?: string;

  @ApiProperty({ format: 'date-time' })
  at!: string;

  @ApiPropertyOptional({ enum: SURFACE_NAMES, description: 'the surface that answered the call' })
  surface?: SurfaceName;

  @ApiProperty({
    oneOf: [{ $ref: getSchemaPath(ControlOutcomeDto) }, { $ref: getSchemaPath(DryRunOutcomeDto) }],
  })
  outcome!: ControlOutcomeDto | DryRunOutcomeDto;

  @ApiPropertyOptional({
    enum: ['tool'],
    description: 'absent for an operator; `tool` when the model called transfer_call or end_call',
  })
  by?: 'tool';

  @ApiPropertyOptional({ description: "the model's reason, for the built-in call tools" })
  reason?: string;
}

/** One surface's announcement of the call. */
export class SurfaceArrivalDto implements SurfaceArrival {
  @ApiProperty({
    description: 'the call id on this surface: `call_id` (Realtime) or `session_id` (Live)',
    example: 'live_685343a1381c819085d44c354e1b330e',
  })
  id!: string;

  @ApiProperty({ example: 'live.transport.incoming' })
  event_type!: string;

  @ApiProperty()
  event_id!: string;

  @ApiProperty()
  event_seq!: number;

  @ApiProperty({ format: 'date-time', description: 'when its webhook arrived' })
  received_at!: string;

  @ApiProperty({ description: "ms after the call's first announcement (0 for the first)" })
  after_first_ms!: number;

  @ApiPropertyOptional({ example: 'srtp' })
  sip_media_security?: string;

  @ApiPropertyOptional({
    enum: ['sip_call_id', 'shared_id'],
    description: 'how the twin was recognised: SIP Call-ID with From and To, or a shared id',
  })
  paired_by?: 'sip_call_id' | 'shared_id';
}

export class CallSurfacesDto {
  @ApiPropertyOptional({ type: SurfaceArrivalDto })
  realtime?: SurfaceArrivalDto;

  @ApiPropertyOptional({ type: SurfaceArrivalDto })
  live?: SurfaceArrivalDto;
}

export class CallTimingsDto {
  @ApiProperty({ format: 'date-time', description: 'when the webhook arrived' })
  received_at!: string;

  @ApiProperty({ description: 'arrival to decision, ms' })
  decided_after_ms!: number;

  @ApiPropertyOptional({ description: "arrival to OpenAI's answer, ms" })
  answered_after_ms?: number;

  @ApiPropertyOptional({
    description: "how long the decision waited for the chosen surface's announcement, ms",
  })
  waited_for_twin_ms?: number;
}

export const CALL_STATUSES: CallStatus[] = [
  'waiting',
  'acting',
  'completed',
  'dry_run',
  'caller_gone',
  'failed',
];

/**
 * Everything about one physical call: what arrived on which surface, what was decided and why,
 * what OpenAI said.
 */
export class CallRecordDto implements CallRecord {
  @ApiProperty({
    example: 'rtc_685343a1381c819085d44c354e1b330e',
    description: "the id of the call's first announcement; the record is found by either id",
  })
  call_id!: string;

  @ApiProperty()
  event_id!: string;

  @ApiProperty()
  event_seq!: number;

  @ApiProperty({ type: [SipHeaderDto] })
  sip_headers!: SipHeaderDto[];

  @ApiProperty({
    enum: CALL_STATUSES,
    description:
      "`waiting`: for the chosen surface's announcement, nothing sent yet; `acting`: being sent; `completed`: OpenAI confirmed; `dry_run`: no API key, not sent; `caller_gone`: the caller hung up first; `failed`",
  })
  status!: CallStatus;

  @ApiProperty({ type: DecisionDto })
  decision!: DecisionDto;

  @ApiProperty({ type: ControlOutcomeDto, nullable: true })
  openai!: ControlOutcomeDto | null;

  @ApiProperty({ type: CallTimingsDto })
  timings!: CallTimingsDto;

  @ApiProperty({ type: [OperatorActionDto] })
  operator_actions!: OperatorActionDto[];

  @ApiProperty({
    type: CallSurfacesDto,
    description: "each surface's announcement of the call: one, or both twins",
  })
  surfaces!: CallSurfacesDto;

  @ApiPropertyOptional({
    enum: SURFACE_NAMES,
    description:
      'the surface the decision went to (in a dry run: would have); absent while waiting',
  })
  surface?: SurfaceName;

  @ApiPropertyOptional({
    description: 'why an announcement that looked like a twin was routed as a call of its own',
  })
  pairing_note?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      "OpenAI's answer that came after another instance had settled the call without it (the sender's lease lapsed mid-send): `{ at, status, outcome }`, kept as a note; `status` and the events published stay as settled",
  })
  late_outcome?: LateOutcome;
}

export class CallListDto {
  @ApiProperty({ type: [CallRecordDto], description: 'newest first' })
  calls!: CallRecordDto[];

  @ApiProperty({
    type: 'string',
    nullable: true,
    description: 'pass as `cursor` for the next page',
  })
  next_cursor!: string | null;
}

export class CallActionDoneDto {
  @ApiProperty()
  call_id!: string;

  @ApiProperty({ enum: ['hangup', 'refer'] })
  action!: 'hangup' | 'refer';

  @ApiProperty({ type: ControlOutcomeDto })
  outcome!: ControlOutcomeDto;
}

export class CallActionDryRunDto {
  @ApiProperty()
  call_id!: string;

  @ApiProperty({ enum: ['hangup', 'refer'] })
  action!: 'hangup' | 'refer';

  @ApiProperty({ enum: [true] })
  dry_run!: true;
}

export class CallActionFailedDto {
  @ApiProperty({ example: 'OpenAI refused the refer' })
  message!: string;

  @ApiProperty({ type: ControlOutcomeDto })
  outcome!: ControlOutcomeDto;
}
