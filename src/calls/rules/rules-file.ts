import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
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

export function parseRulesText(text: string, file = '(rules)'): ParsedRulesFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new RulesFileError(
      file,
      doc.errors.map((error) => ({
        path: '',
        line: lineCounter.linePos(error.pos[0]).line,
        message: `not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${error.message.split('\n')[0]}`,
      })),
    );
  }
  return {
    document: doc.toJS({ maxAliasCount: 100 }) as unknown,
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
