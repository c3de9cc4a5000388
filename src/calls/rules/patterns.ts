import { RE2JS } from 're2js';

/** Longest user pattern we compile: RE2 is linear in the input, not in the pattern. */
export const MAX_PATTERN_LENGTH = 1000;

/** A compiled pattern: RE2 semantics, linear time whatever the pattern or the input. */
export interface LinearPattern {
  /** Named captures of the first match, or undefined when there is none. */
  match(text: string): Record<string, string> | undefined;
}

/** A user's regular expression, with named captures `(?<name>...)` or `(?P<name>...)`. */
export function compileRegex(source: string, caseSensitive: boolean): LinearPattern {
  if (source.length > MAX_PATTERN_LENGTH)
    throw new Error(`pattern is longer than ${MAX_PATTERN_LENGTH} characters`);
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(source, caseSensitive ? 0 : RE2JS.CASE_INSENSITIVE);
  } catch (error) {
    throw new Error(`invalid regular expression: ${(error as Error).message}`);
  }
  const names = Object.keys(compiled.namedGroups());
  return {
    match(text) {
      const matcher = compiled.matcher(text);
      if (!matcher.find()) return undefined;
      const captures: Record<string, string> = {};
      for (const name of names) {
        const value = matcher.group(name);
        if (value !== null && value !== undefined) captures[name] = value;
      }
      return captures;
    },
  };
}

const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|]/g;
const escapeRegex = (text: string) => text.replace(REGEX_SPECIAL, '\\$&');

/** Shell-style glob over the whole value: `*` any run, `?` one character. */
export function compileGlob(glob: string, caseSensitive: boolean): LinearPattern {
  const source = glob
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : escapeRegex(ch)))
    .join('');
  return compileRegex(`^${source}$`, caseSensitive);
}

/**
 * The dial patterns of Asterisk and FreeSWITCH users: `_` starts a pattern, `X` is any digit,
 * `Z` 1-9, `N` 2-9, `[1-5]` a set, `.` one or more of anything, `!` zero or more. Without the
 * leading `_` the pattern is a literal number. A `+` in front of the number is ignored.
 */
export function compileDialPattern(pattern: string): LinearPattern {
  if (!pattern.startsWith('_'))
    return compileRegex(`^\\+?${escapeRegex(pattern.replace(/^\+/, ''))}$`, true);
  let source = '';
  const body = pattern.slice(1).toUpperCase();
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch === 'X') source += '[0-9]';
    else if (ch === 'Z') source += '[1-9]';
    else if (ch === 'N') source += '[2-9]';
    else if (ch === '.') source += '.+';
    else if (ch === '!') source += '.*';
    else if (ch === '[') {
      const end = body.indexOf(']', i);
      if (end < 0) throw new Error(`dial pattern "${pattern}": "[" without "]"`);
      const set = body.slice(i + 1, end);
      if (!/^[0-9\-*#]+$/.test(set))
        throw new Error(`dial pattern "${pattern}": a set may hold digits and ranges only`);
      source += `[${set.replace(/[*#]/g, '\\$&')}]`;
      i = end;
    } else if (/[0-9*#+]/.test(ch)) source += escapeRegex(ch);
    else
      throw new Error(
        `dial pattern "${pattern}": unexpected "${ch}" (use X, Z, N, [..], ., ! and digits)`,
      );
  }
  return compileRegex(`^\\+?${source}$`, true);
}
