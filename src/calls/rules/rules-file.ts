import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, ScalarTag, Tags } from 'yaml';
import { RuleProblem, RulesValidationError } from './rule-set.compiler';

/** A problem in a rules file, located by line (1-based). */
export interface LocatedProblem extends RuleProblem {
  line?: number;
}

export class RulesFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: LocatedProblem[],
  ) {
    super(
      problems
        .map(
          (p) => `${file}${p.line ? `:${p.line}` : ''}: ${p.path ? `${p.path}: ` : ''}${p.message}`,
        )
        .join('\n'),
    );
  }
}

export interface ParsedRulesFile {
  document: unknown;
  /** Finds the line of a problem path such as `rules[2].when.regex`. */
  locate(path: string): number | undefined;
}

/** Reads a YAML or JSON rules file (JSON is YAML too), keeping positions for error messages. */
export function readRulesFile(file: string): ParsedRulesFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new RulesFileError(file, [
      { path: '', message: `cannot read: ${(error as Error).message}` },
    ]);
  }
  return parseRulesText(text, file);
}

/**
 * How often one anchor may be referenced, weighted by the aliases inside it (the `yaml`
 * package's own measure): enough for one shared action per rule in a large file, far too few
 * for an alias bomb ("billion laughs"), which is refused before it is expanded.
 */
export const MAX_YAML_ALIAS_COUNT = 10_000;

/**
 * A plain scalar written as a number with a leading `+` or `0` (`+4930123456`, `0049301234`)
 * is a phone number, not an integer: YAML would drop the sign and the zeros. Kept as written.
 */
const NUMBER_AS_WRITTEN: ScalarTag = {
  tag: 'tag:yaml.org,2002:str',
  default: true,
  test: /^(?:[-+]?0[0-9]|\+)[0-9._eE+-]*$/,
  resolve: (source) => source,
};

/**
 * Plain YAML only: strings, numbers, booleans, null, lists and maps with string keys. Tags
 * beyond those (`!!js/function`, `!!binary`, `!custom`) are refused, not read as text.
 */
const PARSE_OPTIONS = {
  prettyErrors: false,
  uniqueKeys: true,
  stringKeys: true,
  resolveKnownTags: false,
  customTags: (tags: Tags) => [NUMBER_AS_WRITTEN, ...tags],
  logLevel: 'error' as const, // problems are reported below, never printed by the parser
};

export function parseRulesText(text: string, file = '(rules)'): ParsedRulesFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { ...PARSE_OPTIONS, lineCounter });
  const kind = extname(file) === '.json' ? 'JSON' : 'YAML';
  const unknownTags = doc.warnings.filter((warning) => warning.code === 'TAG_RESOLVE_FAILED');
  if (doc.errors.length > 0 || unknownTags.length > 0) {
    throw new RulesFileError(file, [
      ...doc.errors.map((error) => ({
        path: '',
        line: lineCounter.linePos(error.pos[0]).line,
        message: `not valid ${kind}: ${error.message.split('\n')[0]}`,
      })),
      ...unknownTags.map((warning) => ({
        path: '',
        line: lineCounter.linePos(warning.pos[0]).line,
        message: `${warning.message.replace('Unresolved tag: tag:yaml.org,2002:', 'unknown tag !!').replace('Unresolved tag: ', 'unknown tag ')}: a rules file holds plain values only (strings, numbers, booleans, null, lists, maps)`,
      })),
    ]);
  }
  let document: unknown;
  try {
    document = doc.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT });
  } catch (error) {
    // An alias bomb, or an alias before its anchor.
    const message = (error as Error).message;
    throw new RulesFileError(file, [
      {
        path: '',
        message: /Excessive alias count/.test(message)
          ? `its aliases expand too far (an anchor used more than ${MAX_YAML_ALIAS_COUNT.toLocaleString('en-US')} times, counting the aliases inside it): refused as an alias bomb`
          : `not usable ${kind}: ${message}`,
      },
    ]);
  }
  return {
    document,
    locate(path) {
      const segments = path.match(/[^.[\]]+/g) ?? [];
      // The deepest node that exists on the path: a missing key points at its parent.
      for (let length = segments.length; length >= 0; length--) {
        const keys = segments.slice(0, length).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
        const node = keys.length === 0 ? doc.contents : doc.getIn(keys, true);
        const range = (node as { range?: [number, number, number] } | undefined)?.range;
        if (range && (isMap(node) || isSeq(node) || node))
          return lineCounter.linePos(range[0]).line;
      }
      return undefined;
    },
  };
}

/** Adds line numbers to a validation error raised for a parsed file. */
export function locateProblems(
  error: RulesValidationError,
  parsed: ParsedRulesFile,
  file: string,
): RulesFileError {
  return new RulesFileError(
    file,
    error.problems.map((problem) => ({ ...problem, line: parsed.locate(problem.path) })),
  );
}
