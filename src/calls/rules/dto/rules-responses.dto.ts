import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { RuleProblem } from '../rule-set.compiler';
import { RoutingRulesDocumentDto } from './routing-rules.dto';

/** `GET /rules`: the live rule set and where it came from. */
export class RulesViewDto {
  @ApiProperty({
    description: 'the version; also the ETag that edits name in If-Match',
    example: '53e8670c9e3a289b',
  })
  version!: string;

  @ApiProperty({
    enum: ['file', 'api'],
    description: 'a RULES_FILE owns the rules, or the API does',
  })
  source!: 'file' | 'api';

  @ApiPropertyOptional({
    enum: [true],
    description: 'present when a rules file owns the rules: edits answer 409',
  })
  file?: true;

  @ApiProperty({ format: 'date-time' })
  loaded_at!: string;

  @ApiProperty({ type: [String], description: 'e.g. a rule that an earlier one makes unreachable' })
  warnings!: string[];

  @ApiPropertyOptional({ description: 'the last edit of the rules file that was refused, and why' })
  last_refused_edit?: unknown;

  @ApiProperty({ type: RoutingRulesDocumentDto })
  document!: RoutingRulesDocumentDto;
}

/** The answer to an edit: the new version, its warnings and the whole document. */
export class RulesChangeDto {
  @ApiProperty({ description: 'the new version (also the ETag)' })
  version!: string;

  @ApiProperty({ type: [String] })
  warnings!: string[];

  @ApiProperty({ type: RoutingRulesDocumentDto })
  document!: RoutingRulesDocumentDto;
}

export class RuleProblemDto implements RuleProblem {
  @ApiProperty({ example: 'rules[2].when.all[0].regex' })
  path!: string;

  @ApiProperty({ example: 'not a valid RE2 expression: missing )' })
  message!: string;
}

/** 400: a rule set that cannot be used, with every problem found. */
export class RulesInvalidDto {
  @ApiProperty()
  message!: string;

  @ApiProperty({ type: [RuleProblemDto] })
  problems!: RuleProblemDto[];
}
