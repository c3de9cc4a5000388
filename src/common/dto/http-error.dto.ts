import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** Every error answer: Nest's shape, with a message that names the problem. */
export class HttpErrorDto {
  @ApiProperty({ example: 404 })
  statusCode!: number;

  @ApiProperty({
    description: 'what is wrong, in words (a list for a request that fails validation)',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: 'no event with id evt_123',
  })
  message!: string | string[];

  @ApiPropertyOptional({ example: 'Not Found' })
  error?: string;
}
