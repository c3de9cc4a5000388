import { plainToInstance } from 'class-transformer';
import { ValidationError, validateSync } from 'class-validator';
import sjson from 'secure-json-parse';
import { DOCUMENT_LIMITS, pruneDeeperThan } from '../common/document-shape';
import { DeliveryFacts, EventIntake, ReplacedField } from './event-intake';
import {
  isKnownWebhookEventType,
  KnownWebhookEvent,
  WEBHOOK_EVENT_DTOS,
  WEBHOOK_EVENT_INTAKES,
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
 * What stands in for an envelope field that a tolerant type (a ringing call) cannot use as it
 * arrived: the delivery's own id and arrival time; `object` is optional and is dropped.
 */
const ENVELOPE_FALLBACKS: Record<string, (delivery: DeliveryFacts) => string | number | undefined> =
  {
    id: (delivery) => delivery.webhookId,
    created_at: (delivery) => Math.floor(delivery.receivedAt / 1000),
    object: () => undefined,
  };

/**
 * Turns a verified body into its typed DTO: `type` is checked against the known list first,
 * then the matching class is instantiated and validated (class-transformer discriminators
 * would silently fall back to a base class on an unknown type). A ringing call is refused
 * only for what it cannot do without (see `EventIntake`); with `delivery`, an unusable
 * envelope field of it is taken from the delivery instead.
 */
export function parseWebhookEvent(
  body: Buffer | string,
  delivery?: DeliveryFacts,
): ParsedWebhookEvent {
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

  // class-transformer walks the body recursively: a body nested thousands of levels deep would
  // overflow the stack and turn a signed event (a ringing call, say) into a 400. OpenAI nests a
  // few levels; deeper values reach the DTO as null (the stored body keeps them).
  pruneDeeperThan(plain, DOCUMENT_LIMITS.maxDepth);
  const dtoClass = isKnownWebhookEventType(type)
    ? WEBHOOK_EVENT_DTOS[type]
    : UnknownWebhookEventDto;
  const intake = isKnownWebhookEventType(type) ? WEBHOOK_EVENT_INTAKES[type] : undefined;
  let instance: object;
  try {
    intake?.bound(plain as Record<string, unknown>);
    instance = plainToInstance(dtoClass as new () => object, plain);
  } catch (error) {
    return invalid(`body could not be read: ${(error as Error).message}`, []);
  }
  const errors = flatten(validateSync(instance, VALIDATION));
  const refusing = intake ? replaceEnvelope(instance, errors, intake, delivery) : errors;
  if (refusing.length > 0) {
    return invalid(`invalid ${type} event: ${errors.map((e) => e.path).join(', ')}`, errors);
  }
  return isKnownWebhookEventType(type)
    ? { ok: true, known: true, event: instance as KnownWebhookEvent }
    : { ok: true, known: false, event: instance as UnknownWebhookEventDto };
}

/**
 * Replaces the unusable envelope fields of a tolerant type from the delivery and notes it;
 * returns the problems that still refuse the event (essential ones, or any without a stand-in).
 * Nothing is replaced when anything refuses: the 400 then lists every problem.
 */
function replaceEnvelope(
  instance: object,
  errors: FieldError[],
  intake: EventIntake,
  delivery: DeliveryFacts | undefined,
): FieldError[] {
  const tolerated = errors.filter(
    (error) =>
      delivery !== undefined &&
      Object.prototype.hasOwnProperty.call(ENVELOPE_FALLBACKS, error.path) &&
      !intake.essential.some((path) => error.path === path || error.path.startsWith(`${path}.`)),
  );
  const refusing = errors.filter((error) => !tolerated.includes(error));
  if (refusing.length > 0 || tolerated.length === 0) return refusing;
  const fields = instance as Record<string, unknown>;
  const replaced: ReplacedField[] = tolerated.map(({ path, problems }) => {
    const value = ENVELOPE_FALLBACKS[path](delivery!);
    if (value === undefined) {
      delete fields[path];
      return { path, problems };
    }
    fields[path] = value;
    return { path, problems, replaced_with: value };
  });
  intake.noteReplaced(instance, replaced);
  return [];
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
