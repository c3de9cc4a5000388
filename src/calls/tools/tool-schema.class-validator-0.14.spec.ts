// The host app brings its own class-validator (a peer dependency, ^0.14.0 || ^0.15.0): the
// schema and the validation read whichever copy it has. This spec runs them on 0.14.0.
jest.mock('class-validator', () => jest.requireActual('test-host-class-validator'));

import { Type } from 'class-transformer';
import {
  IsEnum,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { readToolArguments } from './tool-arguments';
import { ToolParam } from './tool-param.decorator';
import { toolParametersOf } from './tool-schema';

enum Size {
  Small = 's',
  Large = 'l',
}

class Item {
  @IsUUID()
  id!: string;
}

class Args {
  @ToolParam({ description: 'The order' })
  @Matches(/^A\d{4}$/)
  order_id!: string;

  @IsOptional()
  @IsInt()
  @Max(5)
  count?: number;

  @IsEnum(Size)
  size!: Size;

  @IsIn(['a', 'b'])
  @IsString()
  @MaxLength(1)
  letter!: string;

  @ValidateNested({ each: true })
  @Type(() => Item)
  items!: Item[];
}

describe('tool schemas and validation on class-validator 0.14', () => {
  it('runs on the 0.14.0 copy', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const version = require('test-host-class-validator/package.json').version;
    expect(version).toBe('0.14.0');
    expect(jest.requireMock('class-validator')).toBe(
      jest.requireActual('test-host-class-validator'),
    );
  });

  it('derives the same schema', () => {
    expect(toolParametersOf(Args)).toEqual({
      type: 'object',
      properties: {
        order_id: { description: 'The order', type: 'string', pattern: '^A\\d{4}$' },
        count: { type: 'integer', maximum: 5 },
        size: { type: 'string', enum: ['s', 'l'] },
        letter: { type: 'string', enum: ['a', 'b'], maxLength: 1 },
        items: {
          type: 'array',
          items: {
            type: 'object',
            properties: { id: { type: 'string', format: 'uuid' } },
            required: ['id'],
            additionalProperties: false,
          },
        },
      },
      required: ['order_id', 'size', 'letter', 'items'],
      additionalProperties: false,
    });
  });

  it('validates the same way', async () => {
    const ok = await readToolArguments(
      '{"order_id":"A1234","size":"s","letter":"a","items":[{"id":"8c5b3f4e-1b7a-4a53-9f0e-2b8b8f6d1c2a"}]}',
      Args,
    );
    expect(ok.ok).toBe(true);
    const bad = await readToolArguments(
      '{"order_id":"A1","size":"m","letter":"a","items":[{"id":"x","more":1}],"extra":true}',
      Args,
    );
    expect(bad).toEqual({
      ok: false,
      problems: expect.arrayContaining([
        'property extra should not exist',
        'order_id must match /^A\\d{4}$/ regular expression',
        'size must be one of the following values: s, l',
        'items.0.more: property more should not exist',
        'items.0.id: id must be a UUID',
      ]),
    });
  });
});
