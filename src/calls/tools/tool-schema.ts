import { Type } from '@nestjs/common';
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';
import { CallToolDefinitionError } from './call-tool-error';
import { toolParamsOf } from './tool-param.decorator';

export type JsonSchema = Record<string, unknown>;

/** class-transformer's `@Type()` records (internal path: the package exports no other). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const transformerStorage = require('class-transformer/cjs/storage').defaultMetadataStorage as {
  findTypeMetadata(
    target: Type<object>,
    property: string,
  ): { typeFunction: (options?: unknown) => unknown } | undefined;
};

/** Schema of a tool without arguments. */
export const NO_ARGUMENTS: JsonSchema = {
  type: 'object',
  properties: {},
  additionalProperties: false,
};

/**
 * The JSON schema of a `@CallTool` arguments DTO, from its class-validator decorators: one
 * declaration, in code, for both the model (the tool's `parameters`) and the validation.
 *
 * Mapped: `IsString`, `IsInt`, `IsNumber`, `IsBoolean`, `IsEnum`, `IsIn`, `IsOptional` (and
 * `ValidateIf`: not required), `Min`, `Max`, `IsPositive`, `IsNegative`, `MinLength`,
 * `MaxLength`, `Length`, `IsNotEmpty`, `Matches` (its flags are not carried),
 * `IsEmail`/`IsUUID`/`IsUrl`/`IsISO8601`/`IsDateString` (as `format`), `IsArray`,
 * `ArrayMinSize`, `ArrayMaxSize`, `ArrayUnique`, `each: true` (on the items), `IsObject`,
 * `ValidateNested` with `@Type(() => Class)` (inlined), `@ToolParam({ description })`. Without
 * a type decorator, the TypeScript type (string, number, boolean, array) gives it. Other
 * validators are not in the schema but still validate. Objects forbid unknown properties,
 * as the validation does.
 */
export function toolParametersOf(dto: Type<object> | undefined): JsonSchema {
  return dto ? objectSchema(dto, []) : NO_ARGUMENTS;
}

function objectSchema(dto: Type<object>, path: Type<object>[]): JsonSchema {
  if (path.includes(dto)) {
    const chain = [...path, dto].map((c) => c.name).join(' -> ');
    throw new CallToolDefinitionError(`${chain}: tool arguments cannot be recursive`);
  }
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false);
  const byProperty = new Map<string, ValidationMetadata[]>();
  for (const metadata of metadatas) {
    const list = byProperty.get(metadata.propertyName) ?? [];
    list.push(metadata);
    byProperty.set(metadata.propertyName, list);
  }
  const params = toolParamsOf(dto);
  for (const property of params.keys()) {
    if (!byProperty.has(String(property))) {
      throw new CallToolDefinitionError(
        `${dto.name}.${String(property)} has @ToolParam but no class-validator decorator; add one (@IsString(), @IsOptional()...), or validation refuses the field`,
      );
    }
  }
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [property, list] of byProperty) {
    const at = `${dto.name}.${property}`;
    const schema = propertySchema(dto, property, list, [...path, dto], at);
    const description = params.get(property)?.description;
    properties[property] = description ? { description, ...schema } : schema;
    if (!list.some((m) => m.type === ValidationTypes.CONDITIONAL_VALIDATION)) {
      required.push(property);
    }
  }
  return {
    type: 'object',
    properties,
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
  };
}

function propertySchema(
  dto: Type<object>,
  property: string,
  metadatas: ValidationMetadata[],
  path: Type<object>[],
  at: string,
): JsonSchema {
  const designType = Reflect.getMetadata('design:type', dto.prototype, property) as unknown;
  const nested = metadatas.some((m) => m.type === ValidationTypes.NESTED_VALIDATION);
  const isArray =
    designType === Array ||
    metadatas.some(
      (m) =>
        (m.each && m.type !== ValidationTypes.CONDITIONAL_VALIDATION) || nameOf(m) === 'isarray',
    );
  const own = metadatas.filter((m) => !m.each);
  if (!isArray) {
    const schema = valueSchema(own, designType);
    return nested ? { ...schema, ...objectSchema(nestedClass(dto, property, at), path) } : schema;
  }
  let items = valueSchema(
    metadatas.filter((m) => m.each),
    undefined,
  );
  if (nested) items = { ...items, ...objectSchema(nestedClass(dto, property, at), path) };
  const schema = valueSchema(own, Array);
  return { ...schema, type: 'array', ...(Object.keys(items).length > 0 ? { items } : {}) };
}

/** A nested DTO needs `@Type()`: without it the value stays a plain object and fails validation. */
function nestedClass(dto: Type<object>, property: string, at: string): Type<object> {
  const type = transformerStorage.findTypeMetadata(dto, property)?.typeFunction();
  if (typeof type !== 'function' || type === Object || type === Array) {
    throw new CallToolDefinitionError(
      `${at}: @ValidateNested() needs @Type(() => TheClass) from class-transformer to know the nested class`,
    );
  }
  return type as Type<object>;
}

/** The schema keywords the validators of one value (a property, or each item) say. */
function valueSchema(metadatas: ValidationMetadata[], designType: unknown): JsonSchema {
  const schema: JsonSchema = {};
  const typeOfDesign = DESIGN_TYPES.get(designType);
  if (typeOfDesign) schema.type = typeOfDesign;
  let notEmpty = false;
  for (const metadata of metadatas) {
    const [first, second] = metadata.constraints ?? [];
    switch (nameOf(metadata)) {
      case 'isstring':
        schema.type = 'string';
        break;
      case 'isint':
        schema.type = 'integer';
        break;
      case 'isnumber':
        schema.type = 'number';
        break;
      case 'isboolean':
        schema.type = 'boolean';
        break;
      case 'isarray':
        schema.type = 'array';
        break;
      case 'isobject':
        schema.type = 'object';
        break;
      case 'isenum':
        Object.assign(schema, enumSchema(second as unknown[]));
        break;
      case 'isin':
        Object.assign(schema, enumSchema(first as unknown[]));
        break;
      case 'min':
        schema.minimum = first;
        break;
      case 'max':
        schema.maximum = first;
        break;
      case 'ispositive':
        schema.exclusiveMinimum = 0;
        break;
      case 'isnegative':
        schema.exclusiveMaximum = 0;
        break;
      case 'minlength':
        schema.minLength = first;
        break;
      case 'maxlength':
        schema.maxLength = first;
        break;
      case 'islength':
        schema.minLength = first;
        if (second !== undefined) schema.maxLength = second;
        break;
      case 'isnotempty':
        notEmpty = true;
        break;
      case 'matches':
        schema.pattern = first instanceof RegExp ? first.source : String(first);
        break;
      case 'isemail':
        schema.format = 'email';
        break;
      case 'isuuid':
        schema.format = 'uuid';
        break;
      case 'isurl':
        schema.format = 'uri';
        break;
      case 'isiso8601':
      case 'isdatestring':
        schema.format = 'date-time';
        break;
      case 'arrayminsize':
        schema.minItems = first;
        break;
      case 'arraymaxsize':
        schema.maxItems = first;
        break;
      case 'arrayunique':
        schema.uniqueItems = true;
        break;
    }
  }
  if (notEmpty && schema.type === 'string' && schema.minLength === undefined) schema.minLength = 1;
  return schema;
}

const DESIGN_TYPES = new Map<unknown, string>([
  [String, 'string'],
  [Number, 'number'],
  [Boolean, 'boolean'],
  [Array, 'array'],
]);

/**
 * The validator's name in lower case (`isstring`, `min`, `isuuid`): class-validator 0.14 and
 * 0.15 both record it, in a case that differs between validators (`isUuid`, `isISO8601`).
 */
function nameOf(metadata: ValidationMetadata): string {
  return (metadata.name ?? metadata.type ?? '').toLowerCase();
}

function enumSchema(values: unknown[] | undefined): JsonSchema {
  const list = [...new Set(values ?? [])];
  const types = new Set(list.map((value) => typeof value));
  const type =
    types.size === 1 && (types.has('string') || types.has('number') || types.has('boolean'))
      ? [...types][0]
      : undefined;
  return { ...(type ? { type } : {}), enum: list };
}
