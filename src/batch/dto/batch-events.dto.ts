import { EventType } from '../../common/dto/event-type.decorator';
import { ObjectReferenceEventDto } from '../../common/dto/webhook-event.dto';

/** `batch.cancelled`: sent when a batch API request has been cancelled. */
export class BatchCancelledEvent extends ObjectReferenceEventDto {
  @EventType('batch.cancelled')
  type!: 'batch.cancelled';
}

/** `batch.completed`: sent when a batch API request has been completed. */
export class BatchCompletedEvent extends ObjectReferenceEventDto {
  @EventType('batch.completed')
  type!: 'batch.completed';
}

/** `batch.expired`: sent when a batch API request has expired. */
export class BatchExpiredEvent extends ObjectReferenceEventDto {
  @EventType('batch.expired')
  type!: 'batch.expired';
}

/** `batch.failed`: sent when a batch API request has failed. */
export class BatchFailedEvent extends ObjectReferenceEventDto {
  @EventType('batch.failed')
  type!: 'batch.failed';
}

export const BATCH_EVENTS = {
  'batch.cancelled': BatchCancelledEvent,
  'batch.completed': BatchCompletedEvent,
  'batch.expired': BatchExpiredEvent,
  'batch.failed': BatchFailedEvent,
} as const;
