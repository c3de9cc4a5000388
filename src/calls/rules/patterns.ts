import { RE2JS } from 're2js';
import { estimateProgramSize } from './program-size';

/** Longest pattern a rule may write (regex, glob or dial pattern). */
export const MAX_PATTERN_LENGTH = 1000;

/**
 * Most instructions a pattern may compile to. RE2 runs in time linear in the input, but the
 * factor is the program size: `(?:a?){999}a{999}` is 3,000 instructions, and a pattern of them
 * under 1,000 characters took seconds per call. 256 holds every US area code as one alternation.
 */
export const MAX_PROGRAM_SIZE = 256;

/**
 * Work one pattern condition may do per call, as program size times characters read: about a
 * millisecond for the costliest pattern measured (captures over `.*`), microseconds for most.
 * A pattern reads `PATTERN_WORK_BUDGET / program size` characters per call: 2,340 for a
 * 14-instruction pattern such as `^\+1\d{10}$`, 128 for one of 256 instructions.
 */
export const PATTERN_WORK_BUDGET = 32_768;

/** A compiled pattern: RE2 semantics, linear time, bounded program. */
export interface LinearPattern {
  /** The compiled program's size, in RE2 instructions. */
  readonly programSize: number;
  /** Characters one evaluation may read over all the values it tests. */
  readonly readable: number;
  /** Named captures of the first match; undefined when there is none, or `text` is longer than `readable`. */
  match(text: string): Record<string, string> | undefined;
}

/** A user's regular expression, with named captures `(?<name>...)` or `(?P<name>...)`. */
export function compileRegex(source: string, caseSensitive: boolean): LinearPattern {
  return compileBounded(source, source, caseSensitive, 'regex');
}

const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|]/g;
const escapeRegex = (text: string) => text.replace(REGEX_SPECIAL, '\\$&');

/** Shell-style glob over the whole value: `*` any run, `?` one character. */
export function compileGlob(glob: string, caseSensitive: boolean): LinearPattern {
  const source = glob
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : escapeRegex(ch)))
    .join('');
  return compileBounded(glob, `^${source}$`, caseSensitive, 'glob');
}

/**
 * The dial patterns of Asterisk and FreeSWITCH users: `_` starts a pattern, `X` is any digit,
 * `Z` 1-9, `N` 2-9, `[1-5]` a set, `.` one or more of anything, `!` zero or more. Without the
 * leading `_` the pattern is a literal number. A `+` in front of the number is ignored.
 */
export function compileDialPattern(pattern: string): LinearPattern {
  const dial = (source: string) => compileBounded(pattern, `^\\+?${source}$`, true, 'dial pattern');
  if (!pattern.startsWith('_')) return dial(escapeRegex(pattern.replace(/^\+/, '')));
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
  return dial(source);
}

/**
 * Compiles `source` (the regex that `written`, the rule's own text, stands for) within the
 * limits: the written length, then an estimate of the program size before compiling (so that a
 * pattern expanding to 100,000 instructions is not compiled first), then the exact size.
 */
function compileBounded(
  written: string,
  source: string,
  caseSensitive: boolean,
  kind: string,
): LinearPattern {
  const named = `${kind} ${shorten(written)}`;
  if (written.length > MAX_PATTERN_LENGTH)
    throw new Error(`${named} is longer than ${MAX_PATTERN_LENGTH} characters`);
  const tooLarge = (size: string) =>
    new Error(
      `${named} compiles to ${size} instructions, more than the ${MAX_PROGRAM_SIZE} a pattern may have ` +
        '(so that a call is decided in about a millisecond): use fewer or smaller counted repetitions ({n}) ' +
        'and shorter alternations, or split it over several conditions',
    );
  // The estimate counts high (up to about twice); only a pattern far too large is refused on it.
  const estimate = estimateProgramSize(source);
  if (estimate > 4 * MAX_PROGRAM_SIZE) throw tooLarge(`about ${estimate.toLocaleString('en-US')}`);
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(source, caseSensitive ? 0 : RE2JS.CASE_INSENSITIVE);
  } catch (error) {
    // re2js shows a case-insensitive pattern with the `(?i)` it added; show the user's own.
    const reason = (error as Error).message.replace('`(?i)', '`');
    throw new Error(`invalid regular expression: ${reason}`);
  }
  const programSize = compiled.programSize();
  if (programSize > MAX_PROGRAM_SIZE) throw tooLarge(programSize.toLocaleString('en-US'));
  const names = Object.keys(compiled.namedGroups());
  const readable = Math.floor(PATTERN_WORK_BUDGET / programSize);
  return {
    programSize,
    readable,
    match(text) {
      if (text.length > readable) return undefined;
      // `test` runs RE2's DFA without captures; captures cost a second pass, on a match only.
      if (!compiled.test(text)) return undefined;
      const captures: Record<string, string> = {};
      if (names.length === 0) return captures;
      const matcher = compiled.matcher(text);
      if (!matcher.find()) return undefined;
      for (const name of names) {
        const value = matcher.group(name);
        if (value !== null && value !== undefined) captures[name] = value;
      }
      return captures;
    },
  };
}

function shorten(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}
