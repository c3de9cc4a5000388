import { CallEvent, CALL_EVENT_TYPES, CallEventType } from '../../events/call-event-types';
import { UnknownWebhookEventDto } from '../../events/unknown-webhook-event.dto';
import {
  KNOWN_WEBHOOK_EVENT_TYPES,
  KnownWebhookEventType,
  WebhookEventOf,
} from '../../events/webhook-event-types';

/** Every type a handler can name without the escape: OpenAI's that Switchboard knows, and its own. */
export type KnownEventType = KnownWebhookEventType | CallEventType;

export const KNOWN_EVENT_TYPES: readonly KnownEventType[] = [
  ...KNOWN_WEBHOOK_EVENT_TYPES,
  ...CALL_EVENT_TYPES,
];

/** `a.b.c` gives `a.*` and `a.b.*`: each wildcard that matches at least one known type. */
type WildcardsOf<T extends string> = T extends `${infer Head}.${infer Rest}`
  ? `${Head}.*` | `${Head}.${WildcardsOf<Rest>}`
  : never;

/** `batch.*`, `eval.*`, `eval.run.*`, `realtime.call.*`, `live.*`, `safety.*`, `call.*`... */
export type KnownWildcardPattern = WildcardsOf<KnownEventType>;

declare const unknownPatternBrand: unique symbol;

/** A pattern made with `unknownType()`: a type (or `prefix.*`) Switchboard does not know yet. */
export type UnknownEventPattern = string & { readonly [unknownPatternBrand]: true };

/**
 * What `@OnWebhookEvent` accepts: a known type, a wildcard over known types, `*`, or, for a type
 * OpenAI adds after this version, `unknownType('x.y')`. A typo such as `batch.complete` does
 * not compile.
 */
export type WebhookEventPattern = KnownEventType | KnownWildcardPattern | '*' | UnknownEventPattern;

const PATTERN_SYNTAX = /^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$/i;

/** Whether a string is shaped like a pattern: a type, `prefix.*` or `*`. */
export function isValidPattern(pattern: string): boolean {
  return PATTERN_SYNTAX.test(pattern);
}

/**
 * The explicit escape for a type Switchboard does not know yet (OpenAI adds types):
 * `@OnWebhookEvent(unknownType('realtime.call.ended'))`. The handler then receives an
 * `UnknownWebhookEventDto`, and the start-up log notes that the pattern matches no known type.
 */
export function unknownType(pattern: string): UnknownEventPattern {
  if (!isValidPattern(pattern)) {
    throw new Error(`unknownType: "${pattern}" is not an event type, a "prefix.*" wildcard or "*"`);
  }
  return pattern as UnknownEventPattern;
}

type EventOfType<T> = T extends KnownWebhookEventType
  ? WebhookEventOf<T>
  : T extends CallEventType
    ? CallEvent<T>
    : never;

/**
 * The event a handler of pattern `P` receives. An exact known type gives its DTO; a wildcard
 * gives the DTOs of the known types it covers, or an `UnknownWebhookEventDto`, because a type
 * OpenAI adds later (`batch.paused`, say) matches the wildcard too and has no DTO yet.
 */
export type WebhookEventFor<P> = P extends UnknownEventPattern
  ? UnknownWebhookEventDto
  : P extends '*'
    ? EventOfType<KnownEventType> | UnknownWebhookEventDto
    : P extends `${infer Prefix}.*`
      ? EventOfType<Extract<KnownEventType, `${Prefix}.${string}`>> | UnknownWebhookEventDto
      : P extends KnownEventType
        ? EventOfType<P>
        : UnknownWebhookEventDto;

/** Whether an event type matches a handler pattern. */
export function matchesPattern(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

/** Whether any type Switchboard knows matches the pattern (a typo matches none). */
export function matchesKnownType(pattern: string): boolean {
  return KNOWN_EVENT_TYPES.some((type) => matchesPattern(pattern, type));
}

/** The known type or wildcard nearest to a pattern that matches nothing, to suggest it. */
export function closestKnownPattern(pattern: string): string | undefined {
  const candidates = pattern.endsWith('.*') ? knownWildcards() : KNOWN_EVENT_TYPES;
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(pattern, candidate);
    if (!best || distance < best.distance) best = { candidate, distance };
  }
  // Beyond a few edits it is another name, not a typo.
  return best && best.distance <= Math.max(2, Math.floor(pattern.length / 4))
    ? best.candidate
    : undefined;
}

function knownWildcards(): string[] {
  const wildcards = new Set<string>();
  for (const type of KNOWN_EVENT_TYPES) {
    const parts = type.split('.');
    for (let i = 1; i < parts.length; i++) wildcards.add(`${parts.slice(0, i).join('.')}.*`);
  }
  return [...wildcards];
}

/** Levenshtein distance; the strings are short type names. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}
