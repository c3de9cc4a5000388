import { canonicalHeaderName, LIST_HEADERS } from './sip-header-names';

/** Bound on any header value we look at: caller data is untrusted. */
export const MAX_HEADER_VALUE_USED = 1024;
/** Bound on the number of values of one header we look at. */
export const MAX_VALUES_PER_HEADER = 32;

// C0 controls and DEL (tab included: it would only ever be folding whitespace here).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]+/g;

/** Strips control characters, trims and bounds a header value before anything uses it. */
export function sanitizeHeaderValue(value: string): string {
  return value
    .slice(0, MAX_HEADER_VALUE_USED * 2)
    .replace(CONTROL_CHARACTERS, ' ')
    .trim()
    .slice(0, MAX_HEADER_VALUE_USED);
}

/**
 * A SIP INVITE's headers, looked up by name case-insensitively with compact forms folded.
 * A header that appears several times, or carries a comma-separated list, has several values.
 */
export class SipHeaderBag {
  private readonly values = new Map<string, string[]>();

  constructor(headers: readonly { name: string; value: string }[]) {
    for (const { name, value } of headers) {
      const key = canonicalHeaderName(name);
      const clean = sanitizeHeaderValue(value);
      const entries = LIST_HEADERS.has(key) ? splitList(clean) : [clean];
      const list = this.values.get(key) ?? [];
      for (const entry of entries) if (list.length < MAX_VALUES_PER_HEADER) list.push(entry);
      this.values.set(key, list);
    }
  }

  all(name: string): readonly string[] {
    return this.values.get(canonicalHeaderName(name)) ?? [];
  }

  first(name: string): string | undefined {
    return this.all(name)[0];
  }

  has(name: string): boolean {
    return this.values.has(canonicalHeaderName(name));
  }

  /** Canonical name to values, for templates and records. */
  toRecord(): Record<string, string[]> {
    return Object.fromEntries(this.values);
  }
}

/** Splits on commas that are outside quotes and angle brackets. */
export function splitList(value: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (quoted) {
      if (ch === '\\') i++;
      else if (ch === '"') quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === '<') depth++;
    else if (ch === '>' && depth > 0) depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(value.slice(start).trim());
  return parts.filter((part) => part.length > 0);
}
