import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsNotEmpty, IsObject, IsOptional, IsString, MaxLength } from 'class-validator';

/**
 * A verified event of a type this version does not know yet. It is stored, acknowledged
 * and handed to wildcard handlers: OpenAI adds types, and refusing one only makes it retry.
 */
export class UnknownWebhookEventDto {
  @ApiProperty()
  @IsString()
  @IsNotEmpty()
  id!: string;

  @ApiProperty({ description: 'a type this version does not know' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  type!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  object?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsInt()
  created_at?: number;

  /** Kept as it arrived; there is no schema to hold it to. */
  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject()
  data?: Record<string, unknown>;
}
