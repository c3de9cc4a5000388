/**
 * An upper bound of the RE2 program size a pattern compiles to, read from its text without
 * compiling it. Compiling expands counted repetitions into copies (`.{999}` is a thousand
 * instructions), and costs about a microsecond per instruction: a 1,000-character pattern can
 * take 200 ms to compile before its size is known. This bound lets the caller refuse such a
 * pattern first; the compiled program's own size stays the exact check.
 *
 * It follows RE2's own measure (Go's regexp/syntax `calcSize`, which re2js shares): a literal
 * or a class is 1, a capturing group adds 2, `*` `+` `?` add up to 2, `x{n,m}` is `m` copies of
 * `x` plus `m - n`, and an alternation adds one per `|`. It only needs to be large enough,
 * never exact: where the text is ambiguous it counts high.
 */
export function estimateProgramSize(source: string): number {
  const frames: Frame[] = [newFrame()];
  const top = () => frames[frames.length - 1];
  const atom = (size: number) => {
    const frame = top();
    frame.branch += size;
    frame.last = size;
  };
  const quantify = (size: number) => {
    const frame = top();
    frame.branch += size - frame.last;
    frame.last = size;
  };
  let i = 0;
  while (i < source.length) {
    const ch = source[i];
    if (ch === '\\') {
      i = skipEscape(source, i, atom);
    } else if (ch === '[') {
      i = skipClass(source, i);
      atom(1);
    } else if (ch === '(') {
      const flagsOnly = /^\(\?[A-Za-z-]*\)/.exec(source.slice(i, i + 16));
      if (flagsOnly) {
        i += flagsOnly[0].length;
        continue;
      }
      // `(?:...)` and `(?i:...)` cost nothing of their own; `(...)`, `(?P<n>...)` do.
      const opening = /^\(\?(?:P?<[^>]*>|[A-Za-z-]*:)/.exec(source.slice(i, i + 80))?.[0] ?? '(';
      frames.push({ ...newFrame(), capturing: !opening.endsWith(':') });
      i += opening.length;
    } else if (ch === ')') {
      if (frames.length > 1) atom(closeGroup(frames.pop()!));
      i += 1;
    } else if (ch === '|') {
      const frame = top();
      frame.closed += frame.branch + 1;
      frame.branch = 0;
      frame.last = 0;
      i += 1;
    } else if (ch === '*' || ch === '+' || ch === '?') {
      quantify(top().last + 2);
      i += source[i + 1] === '?' ? 2 : 1;
    } else if (ch === '{') {
      const counted = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i, i + 24));
      if (counted) {
        const min = Number(counted[1]);
        const last = top().last;
        if (counted[2] === undefined) quantify(last * min);
        else if (counted[3] === '') quantify(last * min + 1);
        else
          quantify(last * Math.max(min, Number(counted[3])) + Math.abs(Number(counted[3]) - min));
        i += counted[0].length;
        if (source[i] === '?') i += 1;
      } else {
        atom(1);
        i += 1;
      }
    } else {
      atom(1);
      i += 1;
    }
  }
  while (frames.length > 1) atom(closeGroup(frames.pop()!));
  // The match and fail instructions, capture 0 and the unanchored search's `.*?` prefix.
  return close(frames[0]) + 8;
}

interface Frame {
  /** Size of the alternatives before the last `|`, with one instruction per `|`. */
  closed: number;
  /** Size of the alternative being read. */
  branch: number;
  /** Size of its last atom: what a quantifier applies to. */
  last: number;
  capturing: boolean;
}

const newFrame = (): Frame => ({ closed: 0, branch: 0, last: 0, capturing: false });
const close = (frame: Frame) => frame.closed + frame.branch;
const closeGroup = (frame: Frame) => Math.max(1, close(frame)) + (frame.capturing ? 2 : 0);

/** Skips `\x`, `\x{...}`, `\p{...}`, `\pL`, `\Q...\E`; returns the index after it. */
function skipEscape(source: string, at: number, atom: (size: number) => void): number {
  const next = source[at + 1];
  if (next === 'Q') {
    const end = source.indexOf('\\E', at + 2);
    const literal = end < 0 ? source.length - at - 2 : end - at - 2;
    for (let n = 0; n < literal; n++) atom(1);
    return end < 0 ? source.length : end + 2;
  }
  atom(1);
  if ((next === 'p' || next === 'P' || next === 'x') && source[at + 2] === '{') {
    const end = source.indexOf('}', at + 3);
    return end < 0 ? source.length : end + 1;
  }
  if (next === 'p' || next === 'P') return at + 3;
  return at + 2;
}

/** Skips a class `[...]` (a `]` first is literal; escapes and `[:alpha:]` inside). */
function skipClass(source: string, at: number): number {
  let i = at + 1;
  if (source[i] === '^') i += 1;
  if (source[i] === ']') i += 1;
  while (i < source.length && source[i] !== ']') {
    if (source[i] === '\\') i += 2;
    else if (source.startsWith('[:', i)) {
      const end = source.indexOf(':]', i + 2);
      i = end < 0 ? i + 1 : end + 2;
    } else i += 1;
  }
  return i + 1;
}
