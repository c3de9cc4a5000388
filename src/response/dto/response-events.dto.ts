import { Equals } from 'class-validator';
import { ObjectReferenceEventDto } from '../../common/dto/webhook-event.dto';

/** `response.cancelled`: sent when a background response has been cancelled. */
export class ResponseCancelledEvent extends ObjectReferenceEventDto {
  @Equals('response.cancelled')
  type!: 'response.cancelled';
}

/** `response.completed`: sent when a background response has been completed. */
export class ResponseCompletedEvent extends ObjectReferenceEventDto {
  @Equals('response.completed')
  type!: 'response.completed';
}

/** `response.failed`: sent when a background response has failed. */
export class ResponseFailedEvent extends ObjectReferenceEventDto {
  @Equals('response.failed')
  type!: 'response.failed';
}

/** `response.incomplete`: sent when a background response has been interrupted. */
export class ResponseIncompleteEvent extends ObjectReferenceEventDto {
  @Equals('response.incomplete')
  type!: 'response.incomplete';
}

export const RESPONSE_EVENTS = {
  'response.cancelled': ResponseCancelledEvent,
  'response.completed': ResponseCompletedEvent,
  'response.failed': ResponseFailedEvent,
  'response.incomplete': ResponseIncompleteEvent,
} as const;
