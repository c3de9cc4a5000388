// class-transformer's @Type reads design metadata; the DTOs must work outside a Nest app too.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  Equals,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Min,
  ValidateNested,
} from 'class-validator';

/** The envelope every OpenAI webhook event shares: `{ id, object, created_at, type, data }`. */
export abstract class WebhookEventDto {
  /** The unique ID of the event (`evt_...`). */
  @ApiProperty({
    description: 'the unique ID of the event',
    example: 'evt_685343a1381c819085d44c354e1b330e',
  })
  @IsString()
  @IsNotEmpty()
  id!: string;

  /** Always `"event"` when present. */
  @ApiPropertyOptional({ enum: ['event'] })
  @IsOptional()
  @Equals('event')
  object?: 'event';

  /** Unix timestamp in seconds. */
  @ApiProperty({ type: 'integer', description: 'Unix timestamp in seconds', example: 1750287078 })
  @IsInt()
  @Min(0)
  created_at!: number;

  abstract type: string;
  abstract data: object;
}

/**
 * `data` of every event that refers to one API object by its id (batch, eval run, job,
 * response, safety alert or case, agent session).
 */
export class ObjectReferenceDto {
  /** The id of the object the event is about. */
  @ApiProperty({
    description:
      'the id of the batch, eval run, fine-tuning job, response, safety alert or case, or agent session',
  })
  @IsString()
  @IsNotEmpty()
  id!: string;
}

/** Shared shape of the events whose `data` is `{ id }` (every OpenAI event but a ringing call). */
export abstract class ObjectReferenceEventDto extends WebhookEventDto {
  @ApiProperty({ type: () => ObjectReferenceDto })
  @IsObject()
  @ValidateNested()
  @Type(() => ObjectReferenceDto)
  data!: ObjectReferenceDto;
}
