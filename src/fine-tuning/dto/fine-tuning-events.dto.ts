import { EventType } from '../../common/dto/event-type.decorator';
import { ObjectReferenceEventDto } from '../../common/dto/webhook-event.dto';

/** `fine_tuning.job.cancelled`: sent when a fine-tuning job has been cancelled. */
export class FineTuningJobCancelledEvent extends ObjectReferenceEventDto {
  @EventType('fine_tuning.job.cancelled')
  type!: 'fine_tuning.job.cancelled';
}

/** `fine_tuning.job.failed`: sent when a fine-tuning job has failed. */
export class FineTuningJobFailedEvent extends ObjectReferenceEventDto {
  @EventType('fine_tuning.job.failed')
  type!: 'fine_tuning.job.failed';
}

/** `fine_tuning.job.succeeded`: sent when a fine-tuning job has succeeded. */
export class FineTuningJobSucceededEvent extends ObjectReferenceEventDto {
  @EventType('fine_tuning.job.succeeded')
  type!: 'fine_tuning.job.succeeded';
}

export const FINE_TUNING_EVENTS = {
  'fine_tuning.job.cancelled': FineTuningJobCancelledEvent,
  'fine_tuning.job.failed': FineTuningJobFailedEvent,
  'fine_tuning.job.succeeded': FineTuningJobSucceededEvent,
} as const;
