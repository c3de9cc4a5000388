import { ApiProperty } from '@nestjs/swagger';
import type { EventSource, HandlerRun, HandlerRunStatus } from '../../store/event-store';

/** One stored event, as lists show it. */
export class EventSummaryDto {
  @ApiProperty({
    description: 'sequence number in the store, increasing, never reused',
    example: 57,
  })
  seq!: number;

  @ApiProperty({ description: "the event's id", example: 'evt_685343a1381c819085d44c354e1b330e' })
  id!: string;

  @ApiProperty({
    description: 'the `webhook-id` it arrived with (deduplication key)',
    example: 'wh_685342e6c53c8190a1be43f081506c52',
  })
  webhook_id!: string;

  @ApiProperty({ example: 'batch.completed' })
  type!: string;

  @ApiProperty({
    enum: ['openai', 'switchboard'],
    description: "OpenAI's webhook, or Switchboard's own event",
  })
  source!: EventSource;

  @ApiProperty({ format: 'date-time' })
  received_at!: string;
}

export class EventListDto {
  @ApiProperty({ type: [EventSummaryDto] })
  events!: EventSummaryDto[];

  @ApiProperty({
    type: 'string',
    nullable: true,
    description: 'pass as `cursor` for the next page; null on the last page',
    example: '50',
  })
  next_cursor!: string | null;
}

/** One handler's run on an event: its status, attempts and last error. */
export class HandlerRunDto implements HandlerRun {
  @ApiProperty({ example: 'BillingHandlers.onBatchCompleted' })
  handler!: string;

  @ApiProperty({ enum: ['pending', 'retrying', 'done', 'failed'] })
  status!: HandlerRunStatus;

  @ApiProperty()
  attempts!: number;

  @ApiProperty({ type: 'string', nullable: true })
  lastError!: string | null;

  @ApiProperty({ type: 'number', nullable: true, description: 'ms since the epoch' })
  nextAttemptAt!: number | null;

  @ApiProperty({ description: 'ms since the epoch' })
  updatedAt!: number;
}

export class EventDetailDto extends EventSummaryDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'the event as it arrived',
  })
  payload!: unknown;

  @ApiProperty({ type: [HandlerRunDto] })
  handlers!: HandlerRunDto[];
}

export class ReplayResultDto {
  @ApiProperty({ enum: [true] })
  replayed!: true;

  @ApiProperty()
  seq!: number;

  @ApiProperty({ type: [String], description: 'the handlers the event was handed to again' })
  handlers!: string[];
}
