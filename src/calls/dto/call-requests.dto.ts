import {
  IsArray,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Max,
  Matches,
  MaxLength,
  Min,
} from 'class-validator';
import { Type } from 'class-transformer';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsTargetUri } from './is-target-uri.validator';
import { CALL_STATUSES } from './call-responses.dto';
import type { CallStatus } from '../store/call-store';

/** `POST /calls/:id/refer`: an operator's transfer, sent as written (no template). */
export class ReferRequestDto {
  @ApiProperty({ example: 'tel:+14155550199' })
  @IsTargetUri()
  target_uri!: string;
}

/** `POST /calls/:id/message`: an operator's text, put into the conversation of a live call. */
export class MessageRequestDto {
  @ApiProperty({ example: 'Tell the caller their refund was approved.', maxLength: 4000 })
  @IsString()
  @IsNotEmpty()
  // Blank text would append nothing to the conversation yet be recorded as said.
  @Matches(/\S/, { message: 'text must contain more than whitespace' })
  @MaxLength(4000)
  text!: string;
}

export class ListCallsQuery {
  @ApiPropertyOptional({ enum: CALL_STATUSES })
  @IsOptional()
  @IsIn(CALL_STATUSES)
  status?: CallStatus;

  /** The `next_cursor` of the previous page. */
  @ApiPropertyOptional({ description: 'the `next_cursor` of the previous page' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  cursor?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}

/** `PUT /rules/order`: every rule id, in the new written order. */
export class ReorderRulesDto {
  @ApiProperty({ type: [String] })
  @IsArray()
  @IsString({ each: true })
  ids!: string[];
}
