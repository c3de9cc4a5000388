import { compileRegex } from './patterns';

/**
 * The constraints a placeholder puts on its value, written after `|`:
 * `{{headers.x-account-tier | oneof: gold, platinum | default: standard}}`,
 * `{{headers.x-ext | match: "2\d\d"}}`, `{{caller.display_name | max: 40}}`.
 * - `oneof: a, b, c`: the value must be one of these (ignoring case); the rule's spelling is
 *   inserted, so what goes out is the author's text, not the caller's.
 * - `match: <RE2>`: the whole value must match the pattern (case-sensitive; `(?i)` to ignore
 *   case). Linear time, like every pattern in the rules.
 * - `max: N`: at most N characters. It bounds the value but does not vet it.
 * - `default: text`: what to insert when the value is empty or fails a constraint (last).
 * An argument may be quoted with "..." (nothing inside is an escape, so a pattern's
 * backslashes stay as written); quote it when it holds `|`, `,` or `}}`.
 */
export interface PlaceholderFilters {
  checks: Check[];
  /** `oneof` or `match` is among the checks: a value that passes them is vetted. */
  vetted: boolean;
  fallback?: string;
}

interface Check {
  /** The value to insert, or undefined when the value fails. */
  apply(value: string): string | undefined;
  describe: string;
}

/** Longest value a placeholder inserts; caller values are cut to it before any check. */
export const MAX_VALUE_LENGTH = 256;
const MAX_CHOICES = 1000;
const FILTERS = ['oneof', 'match', 'max', 'default'];

/** Parses the `| name: argument` segments of one placeholder; throws naming the problem. */
export function parseFilters(segments: string[]): PlaceholderFilters {
  const filters: PlaceholderFilters = { checks: [], vetted: false };
  for (const segment of segments) {
    const colon = segment.indexOf(':');
    const name = (colon >= 0 ? segment.slice(0, colon) : segment).trim();
    const argument = colon >= 0 ? segment.slice(colon + 1).trim() : '';
    if (!FILTERS.includes(name))
      throw new Error(`unknown filter "${name}": use ${FILTERS.join(', ')}`);
    if (colon < 0 || argument.length === 0)
      throw new Error(`filter "${name}" needs a value, as in "${name}: ..."`);
    if (filters.fallback !== undefined) throw new Error('"default" must be the last filter');
    if (name === 'default') {
      filters.fallback = unquote(argument);
      if (filters.fallback.length > MAX_VALUE_LENGTH)
        throw new Error(`default is longer than ${MAX_VALUE_LENGTH} characters`);
    } else if (name === 'oneof') {
      filters.checks.push(oneOf(argument));
      filters.vetted = true;
    } else if (name === 'match') {
      filters.checks.push(matches(argument));
      filters.vetted = true;
    } else {
      filters.checks.push(maxLength(argument));
    }
  }
  return filters;
}

export type Resolution =
  /** Text the caller did not choose: a trusted field, a default, the rule's spelling. */
  | { status: 'trusted'; value: string }
  /** Caller data that passed its `oneof`/`match`. */
  | { status: 'vetted'; value: string }
  /** Caller data nobody vetted (no filter, or only `max`). */
  | { status: 'unvetted'; value: string }
  /** It failed a constraint and has no default. */
  | { status: 'rejected'; reason: string };

/** Applies the filters to one value. */
export function resolveValue(
  raw: string,
  filters: PlaceholderFilters,
  callerData: boolean,
): Resolution {
  let value = cut(raw);
  for (const check of filters.checks) {
    const next = check.apply(value);
    if (next === undefined) {
      if (filters.fallback !== undefined) return { status: 'trusted', value: filters.fallback };
      const shown =
        raw.length > 64 ? `${JSON.stringify(raw.slice(0, 64))}...` : JSON.stringify(raw);
      return { status: 'rejected', reason: `is ${shown}, which fails ${check.describe}` };
    }
    value = next;
  }
  if (value === '' && filters.fallback !== undefined)
    return { status: 'trusted', value: filters.fallback };
  if (!callerData) return { status: 'trusted', value };
  return { status: filters.vetted ? 'vetted' : 'unvetted', value };
}

/** Cuts by code points, so a character outside the BMP is never split in half. */
function cut(value: string): string {
  if (value.length <= MAX_VALUE_LENGTH) return value;
  return [...value].slice(0, MAX_VALUE_LENGTH).join('');
}

function oneOf(argument: string): Check {
  const choices = splitOutsideQuotes(argument, ',').map((choice) => unquote(choice.trim()));
  if (choices.some((choice) => choice.length === 0))
    throw new Error('oneof lists values separated by commas, none of them empty');
  if (choices.length > MAX_CHOICES) throw new Error(`oneof lists more than ${MAX_CHOICES} values`);
  const byFolded = new Map(choices.map((choice) => [choice.toLowerCase(), choice]));
  return {
    apply: (value) => byFolded.get(value.toLowerCase()),
    describe: `oneof: ${choices.join(', ')}`,
  };
}

function matches(argument: string): Check {
  const source = unquote(argument);
  let pattern;
  try {
    pattern = compileRegex(`^(?:${source})$`, true);
  } catch (error) {
    throw new Error(`match: ${(error as Error).message}`);
  }
  return {
    apply: (value) => (pattern.match(value) ? value : undefined),
    describe: `match: ${source}`,
  };
}

function maxLength(argument: string): Check {
  const limit = /^\d{1,4}$/.test(argument) ? Number(argument) : NaN;
  if (!(limit >= 1 && limit <= MAX_VALUE_LENGTH))
    throw new Error(`max is a whole number of characters from 1 to ${MAX_VALUE_LENGTH}`);
  return {
    apply: (value) => ([...value].length <= limit ? value : undefined),
    describe: `max: ${limit}`,
  };
}

/** `"text"` without its quotes; anything else as it is. */
function unquote(text: string): string {
  return text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
}

/** Splits on `separator` where it is not inside "...". */
export function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === separator) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}
