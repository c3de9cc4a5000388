import { ValidationArguments, ValidationOptions, registerDecorator } from 'class-validator';

export interface SipHeaderListBounds {
  maxHeaders: number;
  maxNameLength: number;
  maxValueLength: number;
}

/**
 * Checks a whole `sip_headers` array in one pass: each item an object with a non-empty
 * string `name` and a string `value`, within the bounds. One constraint instead of a nested
 * validation per header keeps a ringing call's validation cheap; the message names the item.
 */
export function IsSipHeaderList(
  bounds: SipHeaderListBounds,
  options?: ValidationOptions,
): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isSipHeaderList',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => firstProblem(value, bounds) === undefined,
        defaultMessage: (args: ValidationArguments) =>
          `${args.property}${firstProblem(args.value, bounds) ?? ''}`,
      },
    });
  };
}

/** Describes the first offending item, as a suffix to the property name, or undefined. */
function firstProblem(value: unknown, bounds: SipHeaderListBounds): string | undefined {
  if (!Array.isArray(value)) return ' must be an array of { name, value } objects';
  if (value.length > bounds.maxHeaders) return ` must hold at most ${bounds.maxHeaders} headers`;
  for (let i = 0; i < value.length; i++) {
    const header = value[i] as { name?: unknown; value?: unknown } | null;
    if (typeof header !== 'object' || header === null || Array.isArray(header)) {
      return `.${i} must be a { name, value } object`;
    }
    const { name, value: text } = header;
    if (typeof name !== 'string' || name.length === 0 || name.length > bounds.maxNameLength) {
      return `.${i}.name must be a non-empty string of at most ${bounds.maxNameLength} characters`;
    }
    if (typeof text !== 'string' || text.length > bounds.maxValueLength) {
      return `.${i}.value must be a string of at most ${bounds.maxValueLength} characters`;
    }
  }
  return undefined;
}
