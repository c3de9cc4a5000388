import { CallFacts } from '../sip/call-facts';
import { resolveSubject, validateFieldPath } from './subjects';

/** Longest value a placeholder puts into a rendered string. */
const MAX_VALUE_LENGTH = 256;

type Part = { literal: string } | { path: string };

/** How a value is made safe for the place it goes into. */
export type Escape = (value: string) => string;

export interface RenderContext {
  facts: CallFacts;
  captures: Record<string, string>;
}

/**
 * A string with `{{ placeholders }}`: `headers.<name>`, `caller.number` (any role and part a
 * condition can name), `call_id`, `captures.<name>`. Parsed once when the rules are compiled;
 * rendering is one pass that inserts values as plain text, so a value that itself holds `{{`
 * is never read as a placeholder: a caller cannot inject template syntax through a header.
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
      const close = source.indexOf('}}', open + 2);
      if (close < 0) throw new Error(`"{{" at position ${open} is never closed with "}}"`);
      const path = source.slice(open + 2, close).trim();
      validatePlaceholder(path);
      parts.push({ path });
      at = close + 2;
    }
    return new Template(parts, source);
  }

  get isStatic(): boolean {
    return this.parts.every((part) => 'literal' in part);
  }

  render(context: RenderContext, escape: Escape): string {
    let out = '';
    for (const part of this.parts) {
      if ('literal' in part) out += part.literal;
      else out += escape(lookup(part.path, context).slice(0, MAX_VALUE_LENGTH));
    }
    return out;
  }
}

function validatePlaceholder(path: string): void {
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
    return Object.prototype.hasOwnProperty.call(context.captures, name) ? context.captures[name] : '';
  }
  if (path.startsWith('headers.'))
    return context.facts.headers.first(path.slice('headers.'.length)) ?? '';
  return resolveSubject(context.facts, { field: path })[0] ?? '';
}

/** For free text (instructions): values are already free of control characters; keep as is. */
export const asText: Escape = (value) => value;

/** For a URI: everything but unreserved characters and `+` is percent-encoded. */
export const asUriComponent: Escape = (value) =>
  value.replace(/[^A-Za-z0-9\-_.!~*'()+]/g, (ch) =>
    [...Buffer.from(ch)]
      .map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)
      .join(''),
  );
