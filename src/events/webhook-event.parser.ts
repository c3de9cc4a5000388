import { plainToInstance } from 'class-transformer';
import { ValidationError, validateSync } from 'class-validator';
import sjson from 'secure-json-parse';
import {
  isKnownWebhookEventType,
  KnownWebhookEvent,
  WEBHOOK_EVENT_DTOS,
} from './webhook-event-types';
import { UnknownWebhookEventDto } from './unknown-webhook-event.dto';

export type ParsedWebhookEvent =
  | { ok: true; known: true; event: KnownWebhookEvent }
  | { ok: true; known: false; event: UnknownWebhookEventDto }
  | { ok: false; message: string; errors: FieldError[] };

export interface FieldError {
  /** Dotted path to the failing field, e.g. `data.sip_headers.0.name`. */
  path: string;
  problems: string[];
}

const VALIDATION = {
  // Extra fields OpenAI may add are dropped from the DTO (the raw body is stored whole).
  whitelist: true,
  forbidUnknownValues: true,
  validationError: { target: false, value: false },
} as const;

/**
 * Turns a verified body into its typed DTO: `type` is checked against the known list first,
 * then the matching class is instantiated and validated (class-transformer discriminators
 * would silently fall back to a base class on an unknown type).
 */
export function parseWebhookEvent(body: Buffer | string): ParsedWebhookEvent {
  let plain: unknown;
  try {
    // Drops `__proto__` and `constructor.prototype` keys so none can reach a prototype.
    plain = sjson.parse(body.toString(), null, {
      protoAction: 'remove',
      constructorAction: 'remove',
    });
  } catch (error) {
    return invalid(`body is not valid JSON: ${(error as Error).message}`, []);
  }
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
    return invalid('body must be a JSON object', []);
  }
  const type = (plain as { type?: unknown }).type;
  if (typeof type !== 'string' || type.length === 0) {
    return invalid('body.type must be a non-empty string', [
      { path: 'type', problems: ['type must be a string'] },
    ]);
  }

  const dtoClass = isKnownWebhookEventType(type)
    ? WEBHOOK_EVENT_DTOS[type]
    : UnknownWebhookEventDto;
  let instance: object;
  try {
    instance = plainToInstance(dtoClass as new () => object, plain);
  } catch (error) {
    return invalid(`body could not be read: ${(error as Error).message}`, []);
  }
  const errors = flatten(validateSync(instance, VALIDATION));
  if (errors.length > 0) {
    return invalid(`invalid ${type} event: ${errors.map((e) => e.path).join(', ')}`, errors);
  }
  return isKnownWebhookEventType(type)
    ? { ok: true, known: true, event: instance as KnownWebhookEvent }
    : { ok: true, known: false, event: instance as UnknownWebhookEventDto };
}

function invalid(message: string, errors: FieldError[]): ParsedWebhookEvent {
  return { ok: false, message, errors };
}

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = error.constraints ? [{ path, problems: Object.values(error.constraints) }] : [];
    return [...own, ...flatten(error.children ?? [], path)];
  });
}
