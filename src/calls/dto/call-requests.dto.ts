import { IsArray, IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { Type } from 'class-transformer';

export { ReferActionDto as ReferRequestDto } from '../rules/dto/routing-rules.dto';

export class ListCallsQuery {
  @IsOptional()
  @IsIn(['acting', 'completed', 'dry_run', 'caller_gone', 'failed'])
  status?: 'acting' | 'completed' | 'dry_run' | 'caller_gone' | 'failed';

  /** The `next_cursor` of the previous page. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  cursor?: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}

/** `PUT /rules/order`: every rule id, in the new written order. */
export class ReorderRulesDto {
  @IsArray()
  @IsString({ each: true })
  ids!: string[];
}
