/**
 * The character classes of RFC 3261 section 25.1 (and RFC 3966 for tel:), and the small
 * readers the address parser and the URI checker share. Everything here scans its input once,
 * left to right: header values are caller data, so no pattern here can backtrack.
 */

/** A record with no prototype: a parameter named `constructor` or `__proto__` is a parameter. */
export type Params = Record<string, string>;
export const emptyParams = (): Params => Object.create(null) as Params;

const classOf = (chars: string): ReadonlySet<string> => new Set(chars.split(''));

const ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const DIGIT = '0123456789';
const MARK = "-_.!~*'()";
/** `unreserved = alphanum / mark` */
const UNRESERVED = ALPHA + DIGIT + MARK;

/** `user = 1*( unreserved / escaped / user-unreserved )` */
export const USER_CHARS = classOf(`${UNRESERVED}&=+$,;?/`);
/** `password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," )` */
export const PASSWORD_CHARS = classOf(`${UNRESERVED}&=+$,`);
/** `paramchar = param-unreserved / unreserved / escaped` */
export const PARAM_CHARS = classOf(`${UNRESERVED}[]/:&+$`);
/** `hname` and `hvalue`: `hnv-unreserved / unreserved / escaped` */
export const HEADER_CHARS = classOf(`${UNRESERVED}[]/?:+$`);
/** RFC 3966 `pname = 1*( alphanum / "-" )` */
export const TEL_PARAM_NAME_CHARS = classOf(`${ALPHA}${DIGIT}-`);
/** RFC 3966 `visual-separator` */
export const VISUAL_SEPARATORS = classOf('-.()');

export const isDigit = (ch: string): boolean => ch >= '0' && ch <= '9';
export const isAlpha = (ch: string): boolean =>
  (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
export const isAlphanumeric = (ch: string): boolean => isDigit(ch) || isAlpha(ch);
export const isHexDigit = (ch: string): boolean =>
  isDigit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
/** Linear white space once headers are unfolded: space and tab. */
export const isWhitespace = (ch: string): boolean => ch === ' ' || ch === '\t';

/**
 * Whether every character of `text` is in `allowed` or is part of a `%XX` escape. `minLength`
 * is counted in characters of the text (an escape counts as three).
 */
export function isEscapedRun(text: string, allowed: ReadonlySet<string>, minLength = 1): boolean {
  if (text.length < minLength) return false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '%') {
      if (!isHexDigit(text[i + 1] ?? '') || !isHexDigit(text[i + 2] ?? '')) return false;
      i += 2;
    } else if (!allowed.has(ch)) return false;
  }
  return true;
}

/**
 * Undoes `%XX` escapes, reading the bytes as UTF-8 (so `%C3%A9` is `é`); a `%` that starts no
 * escape stays as written, and bytes that are not UTF-8 become U+FFFD. Never throws.
 */
export function percentDecode(text: string): string {
  if (!text.includes('%')) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '%' && isHexDigit(text[i + 1] ?? '') && isHexDigit(text[i + 2] ?? '')) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      const code = text.codePointAt(i)!;
      if (code > 0xffff) i++;
      bytes.push(...Buffer.from(String.fromCodePoint(code)));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Reads a quoted-string that starts at `start` (which holds `"`): backslash escapes undone.
 * Returns the text and the index just past the closing quote, or undefined if it never closes.
 */
export function readQuotedString(
  text: string,
  start: number,
): { value: string; end: number } | undefined {
  let value = '';
  for (let i = start + 1; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\' && i + 1 < text.length) value += text[++i];
    else if (ch === '"') return { value, end: i + 1 };
    else value += ch;
  }
  return undefined;
}

/**
 * The generic parameters of a header, `*( SEMI generic-param )` where `SEMI = SWS ";" SWS` and
 * `EQUAL = SWS "=" SWS`: `;tag=1`, ` ; tag = 98asjd8`, `;lr`, `;x="a;b"`. Names in lower case;
 * quoted values unquoted. Anything before the first `;` is not a parameter and is skipped.
 */
export function readHeaderParams(text: string): Params {
  const params = emptyParams();
  let i = text.indexOf(';');
  while (i >= 0 && i < text.length) {
    i++; // past ";"
    while (isWhitespace(text[i] ?? '')) i++;
    let name = '';
    while (i < text.length && !'=;'.includes(text[i]) && !isWhitespace(text[i])) name += text[i++];
    while (isWhitespace(text[i] ?? '')) i++;
    let value = '';
    if (text[i] === '=') {
      i++;
      while (isWhitespace(text[i] ?? '')) i++;
      if (text[i] === '"') {
        const quoted = readQuotedString(text, i);
        value = quoted ? quoted.value : text.slice(i + 1);
        i = quoted ? quoted.end : text.length;
      } else {
        while (i < text.length && text[i] !== ';' && !isWhitespace(text[i])) value += text[i++];
      }
    }
    if (name) params[name.toLowerCase()] = value;
    const next = text.indexOf(';', i);
    i = next;
  }
  return params;
}

/**
 * URI parameters or URI headers: `name=value` pairs separated by `separator`, names in lower
 * case, both percent-decoded (RFC 3261 allows escapes in both).
 */
export function readUriPairs(text: string, separator: ';' | '&', into: Params): Params {
  for (const pair of text.split(separator)) {
    const eq = pair.indexOf('=');
    const name = percentDecode(eq >= 0 ? pair.slice(0, eq) : pair)
      .trim()
      .toLowerCase();
    if (name) into[name] = percentDecode(eq >= 0 ? pair.slice(eq + 1) : '').trim();
  }
  return into;
}
