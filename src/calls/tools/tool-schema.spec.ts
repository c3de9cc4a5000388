import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsEnum,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { CallToolDefinitionError } from './call-tool-error';
import { ToolParam } from './tool-param.decorator';
import { NO_ARGUMENTS, toolParametersOf } from './tool-schema';

enum Speed {
  Standard = 'standard',
  Express = 'express',
}

class OrderLine {
  @IsString()
  sku!: string;

  @IsInt()
  @Min(1)
  quantity!: number;
}

class PlaceOrderArgs {
  @ToolParam({ description: 'The order number, e.g. A1234' })
  @Matches(/^A\d{4}$/)
  @IsString()
  order_id!: string;

  @IsOptional()
  @IsString()
  @MinLength(2)
  @MaxLength(40)
  note?: string;

  @IsInt()
  @Min(1)
  @Max(10)
  copies!: number;

  @IsNumber()
  amount!: number;

  @IsBoolean()
  gift!: boolean;

  @IsEnum(Speed)
  speed!: Speed;

  @IsIn(['morning', 'evening'])
  slot!: string;

  @IsArray()
  @IsString({ each: true })
  @ArrayMaxSize(3)
  tags!: string[];

  @ValidateNested({ each: true })
  @Type(() => OrderLine)
  lines!: OrderLine[];

  @IsOptional()
  @ValidateNested()
  @Type(() => OrderLine)
  extra?: OrderLine;
}

describe('toolParametersOf (JSON schema from class-validator metadata)', () => {
  const schema = toolParametersOf(PlaceOrderArgs) as {
    properties: Record<string, unknown>;
    required: string[];
  };
  const line = {
    type: 'object',
    properties: {
      sku: { type: 'string' },
      quantity: { type: 'integer', minimum: 1 },
    },
    required: ['sku', 'quantity'],
    additionalProperties: false,
  };

  it('is an object that forbids unknown properties and requires the non-optional ones', () => {
    expect(schema).toMatchObject({ type: 'object', additionalProperties: false });
    expect(schema.required.sort()).toEqual(
      ['amount', 'copies', 'gift', 'lines', 'order_id', 'slot', 'speed', 'tags'].sort(),
    );
  });

  it('maps strings with a pattern, lengths and a description', () => {
    expect(schema.properties.order_id).toEqual({
      description: 'The order number, e.g. A1234',
      type: 'string',
      pattern: '^A\\d{4}$',
    });
    expect(schema.properties.note).toEqual({ type: 'string', minLength: 2, maxLength: 40 });
  });

  it('maps integers and numbers with bounds, and booleans', () => {
    expect(schema.properties.copies).toEqual({ type: 'integer', minimum: 1, maximum: 10 });
    expect(schema.properties.amount).toEqual({ type: 'number' });
    expect(schema.properties.gift).toEqual({ type: 'boolean' });
  });

  it('maps an enum and a list of allowed values', () => {
    expect(schema.properties.speed).toEqual({ type: 'string', enum: ['standard', 'express'] });
    expect(schema.properties.slot).toEqual({ type: 'string', enum: ['morning', 'evening'] });
  });

  it('maps arrays, with `each` validators on their items and size bounds', () => {
    expect(schema.properties.tags).toEqual({
      type: 'array',
      items: { type: 'string' },
      maxItems: 3,
    });
  });

  it('inlines nested DTOs, in arrays and alone', () => {
    expect(schema.properties.lines).toEqual({ type: 'array', items: line });
    expect(schema.properties.extra).toEqual(line);
  });

  it('takes the TypeScript type when no validator says it', () => {
    class Plain {
      @IsOptional()
      name?: string;

      @Min(0)
      count!: number;
    }
    expect(toolParametersOf(Plain)).toEqual({
      type: 'object',
      properties: { name: { type: 'string' }, count: { type: 'number', minimum: 0 } },
      required: ['count'],
      additionalProperties: false,
    });
  });

  it('includes inherited fields', () => {
    class Base {
      @IsString()
      id!: string;
    }
    class Derived extends Base {
      @ToolParam({ description: 'more' })
      @IsInt()
      more!: number;
    }
    expect(toolParametersOf(Derived)).toMatchObject({
      properties: { id: { type: 'string' }, more: { type: 'integer', description: 'more' } },
      required: expect.arrayContaining(['id', 'more']),
    });
    expect(toolParametersOf(Base)).toEqual({
      type: 'object',
      properties: { id: { type: 'string' } },
      required: ['id'],
      additionalProperties: false,
    });
  });

  it('gives an empty object for a tool without arguments', () => {
    expect(toolParametersOf(undefined)).toEqual(NO_ARGUMENTS);
    class NoFields {}
    expect(toolParametersOf(NoFields)).toEqual(NO_ARGUMENTS);
  });

  it('refuses a nested DTO without @Type, a recursive one, and @ToolParam without a validator', () => {
    class Untyped {
      @ValidateNested()
      line!: OrderLine;
    }
    expect(() => toolParametersOf(Untyped)).toThrow(
      new CallToolDefinitionError(
        'Untyped.line: @ValidateNested() needs @Type(() => TheClass) from class-transformer to know the nested class',
      ),
    );
    class Node {
      @IsOptional()
      @ValidateNested()
      @Type(() => Node)
      next?: Node;
    }
    expect(() => toolParametersOf(Node)).toThrow(
      'Node -> Node: tool arguments cannot be recursive',
    );
    class Described {
      @ToolParam({ description: 'nobody validates me' })
      loose?: string;
    }
    expect(() => toolParametersOf(Described)).toThrow(
      'Described.loose has @ToolParam but no class-validator decorator',
    );
  });
});
