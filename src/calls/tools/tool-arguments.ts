import { Type } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate, ValidationError } from 'class-validator';
import sjson from 'secure-json-parse';
import { shapeProblem } from '../../common/document-shape';

export type ReadArguments = { ok: true; args: object } | { ok: false; problems: string[] };

/** A model's arguments are small; anything past these is refused before it is walked. */
const ARGUMENT_LIMITS = { maxDepth: 32, maxValues: 100_000 };

const VALIDATION = {
  whitelist: true,
  forbidNonWhitelisted: true,
  // Every object validated is a DTO instance (nested ones need `@Type`, checked at start-up),
  // and a DTO without fields is a tool without arguments, not an unknown value.
  forbidUnknownValues: false,
  validationError: { target: false, value: false },
} as const;

/**
 * The model's arguments text as an instance of the tool's DTO, validated; or, in words the
 * model can act on, what is wrong with it. An empty text is `{}` (a call without arguments).
 * Without a DTO (a method that takes no arguments), any object is accepted and passed on.
 */
export async function readToolArguments(
  text: string,
  dto: Type<object> | undefined,
): Promise<ReadArguments> {
  let plain: unknown;
  try {
    // Drops `__proto__` and `constructor.prototype` keys so none can reach a prototype.
    plain =
      text.trim() === ''
        ? {}
        : sjson.parse(text, null, {
            protoAction: 'remove',
            constructorAction: 'remove',
          });
  } catch (error) {
    return refused(`arguments are not valid JSON: ${(error as Error).message}`);
  }
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
    return refused('arguments must be a JSON object');
  }
  const shape = shapeProblem(plain, ARGUMENT_LIMITS);
  if (shape) return refused(`arguments ${shape}`);
  if (!dto) return { ok: true, args: plain };
  const args = plainToInstance(dto as new () => object, plain);
  const errors = await validate(args, VALIDATION);
  if (errors.length > 0) return { ok: false, problems: describe(errors) };
  return { ok: true, args };
}

function refused(problem: string): ReadArguments {
  return { ok: false, problems: [problem] };
}

/** `order_id must be a string`; a nested field's message is prefixed with where it is. */
function describe(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) =>
      parent ? `${path}: ${message}` : message,
    );
    return [...own, ...describe(error.children ?? [], path)];
  });
}
