import { IsOptional, IsString, MaxLength } from 'class-validator';
import { ToolParam } from '../tool-param.decorator';

/** Arguments of the built-in `transfer_call`. */
export class TransferCallArgs {
  @ToolParam({
    description:
      "Where to transfer the caller: one of this call's transfer targets, exactly as given; omit it for the first (the default)",
  })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  target?: string;

  @ToolParam({
    description: 'Why the caller is transferred, in a few words (kept in the call record)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

/** Arguments of the built-in `end_call`. */
export class EndCallArgs {
  @ToolParam({ description: 'Why the call ends, in a few words (kept in the call record)' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}
