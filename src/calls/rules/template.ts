import { CallFacts } from '../sip/call-facts';
import { isCallerData } from './caller-data';
import {
  parseFilters,
  PlaceholderFilters,
  Resolution,
  resolveValue,
  splitOutsideQuotes,
} from './template-filters';
import { resolveSubject, validateFieldPath } from './subjects';

/** One `{{ path | filters }}` of a template. */
export interface Placeholder {
  /** As written between the braces, trimmed: for messages. */
  text: string;
  path: string;
  filters: PlaceholderFilters;
  /** The value comes from the caller's side of the call (see caller-data.ts). */
  callerData: boolean;
}

type Part = { literal: string } | { placeholder: Placeholder };

export interface RenderContext {
  facts: CallFacts;
  captures: Record<string, string>;
}

/** Turns one resolved value into the text that goes where the template is used. */
export type Placement = (resolution: Resolution, placeholder: Placeholder) => string;

/**
 * A string with `{{ placeholders }}`: `headers.<name>`, `caller.number` (any role and part a
 * condition can name), `call_id`, `captures.<name>`, each optionally constrained by filters
 * (template-filters.ts). Parsed once when the rules are compiled; rendering is one pass that
 * inserts values as plain text, so a value that itself holds `{{` is never read as a
 * placeholder: a caller cannot inject template syntax through a header.
 */
export class Template {
  private constructor(
    private readonly parts: Part[],
    readonly source: string,
  ) {}

  static parse(source: string): Template {
    const parts: Part[] = [];
    let at = 0;
    while (at < source.length) {
      const open = source.indexOf('{{', at);
      if (open < 0) {
        parts.push({ literal: source.slice(at) });
        break;
      }
      if (open > at) parts.push({ literal: source.slice(at, open) });
      const close = closingBraces(source, open + 2);
      if (close < 0) throw new Error(`"{{" at position ${open} is never closed with "}}"`);
      parts.push({ placeholder: parsePlaceholder(source.slice(open + 2, close)) });
      at = close + 2;
    }
    return new Template(parts, source);
  }

  get isStatic(): boolean {
    return this.parts.every((part) => 'literal' in part);
  }

  get placeholders(): Placeholder[] {
    return this.parts.flatMap((part) => ('placeholder' in part ? [part.placeholder] : []));
  }

  /** The template without its placeholders. */
  get literalText(): string {
    return this.parts.map((part) => ('literal' in part ? part.literal : '')).join('');
  }

  render(context: RenderContext, place: Placement): string {
    let out = '';
    for (const part of this.parts) {
      if ('literal' in part) {
        out += part.literal;
        continue;
      }
      const { placeholder } = part;
      const value = lookup(placeholder.path, context);
      out += place(resolveValue(value, placeholder.filters, placeholder.callerData), placeholder);
    }
    return out;
  }
}

/** The `}}` that closes a placeholder, ignoring any inside a "quoted" filter argument. */
function closingBraces(source: string, from: number): number {
  let quoted = false;
  for (let i = from; i < source.length - 1; i++) {
    if (source[i] === '"') quoted = !quoted;
    else if (!quoted && source[i] === '}' && source[i + 1] === '}') return i;
  }
  return -1;
}

function parsePlaceholder(inner: string): Placeholder {
  const [pathText, ...segments] = splitOutsideQuotes(inner, '|');
  const path = pathText.trim();
  validatePath(path);
  let filters: PlaceholderFilters;
  try {
    filters = parseFilters(segments);
  } catch (error) {
    throw new Error(`{{${inner.trim()}}}: ${(error as Error).message}`);
  }
  return { text: inner.trim(), path, filters, callerData: isCallerData(path) };
}

function validatePath(path: string): void {
  if (path.startsWith('headers.') && path.length > 'headers.'.length) return;
  if (path.startsWith('captures.') && /^captures\.[A-Za-z_][A-Za-z0-9_]*$/.test(path)) return;
  try {
    validateFieldPath(path);
  } catch {
    throw new Error(
      `unknown placeholder {{${path}}}: use headers.<name>, captures.<name>, call_id or a field such as caller.number`,
    );
  }
}

function lookup(path: string, context: RenderContext): string {
  if (path.startsWith('captures.')) {
    const name = path.slice('captures.'.length);
    // Own names only: `captures.constructor` is a capture that did not match, not Object's.
    return Object.prototype.hasOwnProperty.call(context.captures, name)
      ? context.captures[name]
      : '';
  }
  if (path.startsWith('headers.'))
    return context.facts.headers.first(path.slice('headers.'.length)) ?? '';
  return resolveSubject(context.facts, { field: path })[0] ?? '';
}

/**
 * For a URI: everything but unreserved characters and `+` is percent-encoded, as the UTF-8 of
 * each code point (`😀` is `%F0%9F%98%80`; a lone surrogate, which has no UTF-8, is U+FFFD).
 */
export function asUriComponent(value: string): string {
  return value.replace(/[^A-Za-z0-9\-_.!~*'()+]/gu, (ch) =>
    [...Buffer.from(ch)]
      .map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)
      .join(''),
  );
}
