import { EventType } from '../../common/dto/event-type.decorator';
import { ObjectReferenceEventDto } from '../../common/dto/webhook-event.dto';

/** `response.cancelled`: sent when a background response has been cancelled. */
export class ResponseCancelledEvent extends ObjectReferenceEventDto {
  @EventType('response.cancelled')
  type!: 'response.cancelled';
}

/** `response.completed`: sent when a background response has been completed. */
export class ResponseCompletedEvent extends ObjectReferenceEventDto {
  @EventType('response.completed')
  type!: 'response.completed';
}

/** `response.failed`: sent when a background response has failed. */
export class ResponseFailedEvent extends ObjectReferenceEventDto {
  @EventType('response.failed')
  type!: 'response.failed';
}

/** `response.incomplete`: sent when a background response has been interrupted. */
export class ResponseIncompleteEvent extends ObjectReferenceEventDto {
  @EventType('response.incomplete')
  type!: 'response.incomplete';
}

export const RESPONSE_EVENTS = {
  'response.cancelled': ResponseCancelledEvent,
  'response.completed': ResponseCompletedEvent,
  'response.failed': ResponseFailedEvent,
  'response.incomplete': ResponseIncompleteEvent,
} as const;
