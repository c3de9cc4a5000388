import { IsInt, IsNotEmpty, IsObject, IsOptional, IsString, MaxLength } from 'class-validator';

/**
 * A verified event of a type this version does not know yet. It is stored, acknowledged
 * and handed to wildcard handlers: OpenAI adds types, and refusing one only makes it retry.
 */
export class UnknownWebhookEventDto {
  @IsString()
  @IsNotEmpty()
  id!: string;

  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  type!: string;

  @IsOptional()
  @IsString()
  object?: string;

  @IsOptional()
  @IsInt()
  created_at?: number;

  /** Kept as it arrived; there is no schema to hold it to. */
  @IsOptional()
  @IsObject()
  data?: Record<string, unknown>;
}
