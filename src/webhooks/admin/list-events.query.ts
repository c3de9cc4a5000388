import { Type } from 'class-transformer';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

export class ListEventsQuery {
  /** Exact type, a `prefix.*` wildcard, or `*`. */
  @ApiPropertyOptional({
    description: 'an exact type, a `prefix.*` wildcard, or `*`',
    example: 'batch.*',
  })
  @IsOptional()
  @IsString()
  @Matches(/^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$/i, {
    message: 'type must be an event type, "prefix.*" or "*"',
  })
  type?: string;

  /** The `next_cursor` of the previous page. */
  @ApiPropertyOptional({ description: 'the `next_cursor` of the previous page' })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'cursor must be the next_cursor of a previous page' })
  @Min(0)
  cursor?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}
