import fc from 'fast-check';
import { RE2JS } from 're2js';
import {
  compileDialPattern,
  compileGlob,
  compileRegex,
  MAX_PROGRAM_SIZE,
  PATTERN_WORK_BUDGET,
} from './patterns';
import { estimateProgramSize } from './program-size';

/** The pattern: 886 characters, 160,841 instructions, seconds per call. */
const FREEZER = '(?:a?){999}'.repeat(80) + 'a{999}';

describe('patterns', () => {
  it('refuses a pattern that expands past the program limit, naming it, before compiling it', () => {
    expect(() => compileRegex(FREEZER, false)).toThrow(
      /^regex "\(\?:a\?\)\{999\}.*\.\.\." compiles to about [\d,]+ instructions, more than the 256/,
    );
  });

  it('refuses on the exact size what the estimate lets through, and accepts what fits', () => {
    expect(() => compileRegex('.{300}', true)).toThrow(/compiles to 30\d instructions/);
    const areaCodes =
      '^\\+1(?:2(?:0[1-35-9]|1[02-9]|2[03-589]|3[149]|4[08]|5[1-46]|6[0279]|7[0269]|8[13])|3(?:0[1-57-9]|1[02-9]|2[0135]|3[0-24679]|4[167]|5[12]|6[014]|8[056])|4(?:0[124-9]|1[02-579]|2[3-5]|3[0245]|4[0235]|58|6[39]|7[0589]|8[04])|5(?:0[1-57-9]|1[0235-8]|20|3[0149]|4[01]|5[19]|6[1-47]|7[013-5]|8[056])|6(?:0[1-35-9]|1[024-9]|2[03689]|[34][016]|5[017]|6[0-279]|78|8[0-2])|7(?:0[1-46-8]|1[2-9]|2[04-7]|3[1247]|4[037]|5[47]|6[02359]|7[02-59]|8[156])|8(?:0[1-68]|1[02-8]|2[08]|3[0-28]|4[3578]|5[046-9]|6[02-5]|7[028])|9(?:0[1346-9]|1[02-9]|2[0589]|3[0146-8]|4[0179]|5[12469]|7[0-389]|8[04-69]))\\d{7}$';
    const pattern = compileRegex(areaCodes, true);
    expect(pattern.programSize).toBeLessThanOrEqual(MAX_PROGRAM_SIZE);
    expect(pattern.match('+14155550123')).toEqual({});
  });

  it('holds globs and dial patterns to the same limit, naming them as written', () => {
    expect(() => compileGlob('a'.repeat(300), false)).toThrow(/^glob "a{57}\.\.\." compiles to/);
    expect(() => compileDialPattern(`_${'X'.repeat(300)}`)).toThrow(
      /^dial pattern "_X+\.\.\." compiles/,
    );
    expect(compileDialPattern('_1NXXNXXXXXX').match('+18005550100')).toEqual({});
  });

  it('lets a pattern read the work budget divided by its size', () => {
    const small = compileRegex('^\\+1\\d{10}$', true);
    expect(small.readable).toBe(Math.floor(PATTERN_WORK_BUDGET / small.programSize));
    expect(small.readable).toBeGreaterThan(1024);
  });

  it('names the pattern as written in a syntax error, without the flag it was compiled with', () => {
    expect(() => compileRegex('(unclosed', false)).toThrow(
      'invalid regular expression: error parsing regexp: missing closing ): `(unclosed`',
    );
  });

  it('property: the estimate is never below the compiled size, so nothing large is compiled', () => {
    const atom = fc.constantFrom(
      'a',
      'b',
      '.',
      '\\d',
      '\\pL',
      '\\p{Greek}',
      '[a-z]',
      '[^]x]',
      '[[:alpha:]]',
      '\\Qa.b\\E',
      '\\x{41}',
      '^',
      '$',
      '\\b',
      '{',
      'x{',
      '\\{',
    );
    const { regex } = fc.letrec<{ regex: string }>((tie) => ({
      regex: fc.oneof(
        { depthSize: 'small' },
        atom,
        fc.tuple(tie('regex'), tie('regex')).map(([a, b]) => a + b),
        fc.tuple(tie('regex'), tie('regex')).map(([a, b]) => `${a}|${b}`),
        fc
          .tuple(fc.constantFrom('(', '(?:', '(?i:', '(?P<n>', '(?<m>'), tie('regex'))
          .map(([open, inner]) => `${open}${inner})`),
        fc
          .tuple(
            tie('regex'),
            fc.constantFrom('*', '+', '?', '*?', '{3}', '{2,}', '{1,7}', '{0,4}?', '{12}'),
          )
          .map(([inner, quantifier]) => `(?:${inner})${quantifier}`),
      ),
    }));
    fc.assert(
      fc.property(regex, (source) => {
        let size: number;
        try {
          size = RE2JS.compile(source).programSize();
        } catch {
          return; // not a pattern RE2 accepts: its compile error is the answer
        }
        expect(estimateProgramSize(source)).toBeGreaterThanOrEqual(size);
      }),
      { numRuns: 2000 },
    );
  });
});
