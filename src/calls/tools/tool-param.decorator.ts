import { Type } from '@nestjs/common';
import 'reflect-metadata';

export interface ToolParamOptions {
  /** What the field means, for the model (the JSON schema's `description`). */
  description?: string;
}

const TOOL_PARAM = Symbol('switchboard:tool-param');

/**
 * Describes a field of a `@CallTool` arguments DTO to the model. It does not validate: the
 * field needs a class-validator decorator as well (`@IsString()`, `@IsOptional()`...), which
 * also gives its type in the schema.
 */
export function ToolParam(options: ToolParamOptions): PropertyDecorator {
  return (target, propertyKey) => {
    const params: Map<string | symbol, ToolParamOptions> =
      Reflect.getOwnMetadata(TOOL_PARAM, target) ??
      new Map(Reflect.getMetadata(TOOL_PARAM, target) ?? []);
    params.set(propertyKey, options);
    Reflect.defineMetadata(TOOL_PARAM, params, target);
  };
}

/** The `@ToolParam` options of each field of a DTO, inherited ones included. */
export function toolParamsOf(dto: Type<object>): Map<string | symbol, ToolParamOptions> {
  return Reflect.getMetadata(TOOL_PARAM, dto.prototype) ?? new Map();
}
