import { EventType } from '../../common/dto/event-type.decorator';
import { ObjectReferenceEventDto } from '../../common/dto/webhook-event.dto';

/** `eval.run.canceled`: sent when an eval run has been canceled. */
export class EvalRunCanceledEvent extends ObjectReferenceEventDto {
  @EventType('eval.run.canceled')
  type!: 'eval.run.canceled';
}

/** `eval.run.failed`: sent when an eval run has failed. */
export class EvalRunFailedEvent extends ObjectReferenceEventDto {
  @EventType('eval.run.failed')
  type!: 'eval.run.failed';
}

/** `eval.run.succeeded`: sent when an eval run has succeeded. */
export class EvalRunSucceededEvent extends ObjectReferenceEventDto {
  @EventType('eval.run.succeeded')
  type!: 'eval.run.succeeded';
}

export const EVAL_RUN_EVENTS = {
  'eval.run.canceled': EvalRunCanceledEvent,
  'eval.run.failed': EvalRunFailedEvent,
  'eval.run.succeeded': EvalRunSucceededEvent,
} as const;
