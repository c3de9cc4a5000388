import { CallFacts } from '../sip/call-facts';
import { dialOperand, numberOperand } from './number-operand';
import { compileDialPattern, compileGlob, compileRegex, LinearPattern } from './patterns';
import {
  describeSubject,
  isNumberField,
  isOfferField,
  resolveSubject,
  Subject,
  validateFieldPath,
} from './subjects';
import {
  assertTimeZone,
  formatClock,
  inWindow,
  localTime,
  parseClock,
  TimeWindow,
  Weekday,
  WEEKDAYS,
} from './time-window';

export interface EvaluationContext {
  facts: CallFacts;
  now: Date;
}

export type ConditionResult =
  { ok: true; captures: Record<string, string> } | { ok: false; failure: string };

export interface CompiledCondition {
  test(context: EvaluationContext): ConditionResult;
  /** Stable text of the condition, for finding rules that an earlier one shadows. */
  canonical: string;
  /**
   * For `equals` / `in` on one subject: the index key, the (normalised) values that can match,
   * and how to read the call's normalised values for the lookup.
   */
  exact?: { key: string; values: string[]; lookup: (context: EvaluationContext) => string[] };
  /** The conjuncts (an `all` lists its members; anything else is one conjunct). */
  conjuncts: CompiledCondition[];
}

export interface CompileOptions {
  defaultCountry: string;
  timezone: string;
}

/** A condition the rules author wrote wrongly; `path` points into the rule, e.g. `when.all[1].regex`. */
export class ConditionError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

/** Every mistake found in one condition tree: the members of `all`/`any` are each checked. */
export class ConditionErrors extends Error {
  constructor(readonly errors: ConditionError[]) {
    super(errors.map((error) => error.message).join('; '));
  }
}

const OPERATORS = [
  'equals',
  'in',
  'prefix',
  'suffix',
  'contains',
  'glob',
  'dial',
  'regex',
  'exists',
  'absent',
  'gt',
  'gte',
  'lt',
  'lte',
] as const;
type Operator = (typeof OPERATORS)[number];
const MODIFIERS = ['case_sensitive'];
const MAX_DEPTH = 16;
const MAX_LIST = 10_000;

const OK: ConditionResult = { ok: true, captures: {} };

/** Compiles a `when` tree once, when rules are loaded; evaluation then only runs closures. */
export function compileCondition(
  raw: unknown,
  options: CompileOptions,
  path = 'when',
  depth = 0,
): CompiledCondition {
  const compiled = compileNode(raw, options, path, depth);
  // Anything but an `all` is one conjunct: itself.
  if (compiled.conjuncts.length === 0) compiled.conjuncts = [compiled];
  return compiled;
}

function compileNode(
  raw: unknown,
  options: CompileOptions,
  path: string,
  depth: number,
): CompiledCondition {
  if (depth > MAX_DEPTH)
    throw new ConditionError(path, `conditions nest deeper than ${MAX_DEPTH} levels`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConditionError(
      path,
      'a condition is an object such as { field: caller.number, prefix: "+1" }',
    );
  }
  const node = raw as Record<string, unknown>;
  const keys = Object.keys(node);
  if ('all' in node || 'any' in node) return compileGroup(node, keys, options, path, depth);
  if ('not' in node) {
    onlyKeys(keys, ['not'], path);
    const inner = compileCondition(node.not, options, `${path}.not`, depth + 1);
    return {
      canonical: `not(${inner.canonical})`,
      conjuncts: [],
      test: (context) =>
        inner.test(context).ok
          ? { ok: false, failure: `${path}: the negated condition holds (${inner.canonical})` }
          : OK,
    };
  }
  if ('time' in node) {
    onlyKeys(keys, ['time'], path);
    return compileTime(node.time, options, `${path}.time`);
  }
  return compileComparison(node, keys, options, path);
}

function compileGroup(
  node: Record<string, unknown>,
  keys: string[],
  options: CompileOptions,
  path: string,
  depth: number,
): CompiledCondition {
  const kind = 'all' in node ? 'all' : 'any';
  onlyKeys(keys, [kind], path);
  const list = node[kind];
  if (!Array.isArray(list) || list.length === 0)
    throw new ConditionError(`${path}.${kind}`, 'must be a non-empty list of conditions');
  const errors: ConditionError[] = [];
  const compiled = list.map((item, i) => {
    try {
      return compileCondition(item, options, `${path}.${kind}[${i}]`, depth + 1);
    } catch (error) {
      if (error instanceof ConditionErrors) errors.push(...error.errors);
      else if (error instanceof ConditionError) errors.push(error);
      else throw error;
      return undefined;
    }
  });
  if (errors.length > 0) throw errors.length === 1 ? errors[0] : new ConditionErrors(errors);
  const members = compiled as CompiledCondition[];
  const canonical = `${kind}(${members.map((m) => m.canonical).join(',')})`;
  if (kind === 'all') {
    return {
      canonical,
      conjuncts: members.flatMap((m) => m.conjuncts),
      exact: members.find((m) => m.exact)?.exact,
      test(context) {
        const captures: Record<string, string> = {};
        for (const member of members) {
          const result = member.test(context);
          if (!result.ok) return result;
          Object.assign(captures, result.captures);
        }
        return { ok: true, captures };
      },
    };
  }
  return {
    canonical,
    conjuncts: [],
    test(context) {
      const failures: string[] = [];
      for (const member of members) {
        const result = member.test(context);
        if (result.ok) return result;
        failures.push(result.failure);
      }
      return { ok: false, failure: `${path}.any: none holds (${failures.join('; ')})` };
    },
  };
}

function compileComparison(
  node: Record<string, unknown>,
  keys: string[],
  options: CompileOptions,
  path: string,
): CompiledCondition {
  const subject = readSubject(node, path);
  const operators = keys.filter((key) =>
    (OPERATORS as readonly string[]).includes(key),
  ) as Operator[];
  const unknown = keys.filter(
    (key) => !['header', 'field', ...OPERATORS, ...MODIFIERS].includes(key),
  );
  if (unknown.length > 0)
    throw new ConditionError(
      path,
      `unknown key "${unknown[0]}"; operators are ${OPERATORS.join(', ')}`,
    );
  if (operators.length !== 1) {
    throw new ConditionError(
      path,
      `needs exactly one operator (${OPERATORS.join(', ')}), found ${operators.length}`,
    );
  }
  const operator = operators[0];
  const caseSensitive = node.case_sensitive === true;
  if (node.case_sensitive !== undefined && typeof node.case_sensitive !== 'boolean') {
    throw new ConditionError(`${path}.case_sensitive`, 'must be true or false');
  }
  const operand = node[operator];
  const opPath = `${path}.${operator}`;
  const label = describeSubject(subject);
  const fold = (value: string) => (caseSensitive ? value : value.toLowerCase());
  const asNumber = isNumberField(subject);
  // The call's `*.number` values are normalised once, when its facts are derived; a rule's
  // numbers are read the same way here, once, when the rules are compiled (see number-operand).
  const operandOf = (value: string) =>
    fold(asNumber ? numberOperand('equals', value, options.defaultCountry) : value);
  const values = (context: EvaluationContext) => resolveSubject(context.facts, subject);
  const shown = (found: string[]) =>
    found.length === 0 ? 'is absent' : `is ${found.map((v) => JSON.stringify(v)).join(', ')}`;
  const canonical = `${'header' in subject ? `h:${subject.header.toLowerCase()}` : `f:${subject.field}`}|${operator}|${caseSensitive}|${JSON.stringify(operand)}`;

  const predicate = (
    test: (value: string) => Record<string, string> | boolean,
    expectation: string,
  ): CompiledCondition => ({
    canonical,
    conjuncts: [],
    test(context) {
      const found = values(context);
      for (const value of found) {
        const result = test(value);
        if (result) return result === true ? OK : { ok: true, captures: result };
      }
      return { ok: false, failure: `${path}: ${label} ${shown(found)}, ${expectation}` };
    },
  });

  switch (operator) {
    case 'equals':
    case 'in': {
      const list = operator === 'equals' ? [scalar(operand, opPath)] : stringList(operand, opPath);
      const wanted = new Set(list.map(operandOf));
      const condition = predicate(
        (value) => wanted.has(fold(value)),
        operator === 'equals'
          ? `expected ${JSON.stringify(list[0])}`
          : `expected one of ${JSON.stringify(list)}`,
      );
      // Facts of the announcements are not indexed: looking one up for every call would count
      // as reading it, and a read of `call.surfaces` makes the decision wait for the twin.
      if (!isOfferField(subject))
        condition.exact = {
          key: indexKey(subject, caseSensitive),
          values: [...wanted],
          lookup: (context) => values(context).map(fold),
        };
      return condition;
    }
    case 'prefix':
    case 'suffix':
    case 'contains': {
      const text = scalar(operand, opPath);
      const wanted = fold(asNumber ? numberOperand(operator, text, options.defaultCountry) : text);
      const test =
        operator === 'prefix'
          ? (v: string) => fold(v).startsWith(wanted)
          : operator === 'suffix'
            ? (v: string) => fold(v).endsWith(wanted)
            : (v: string) => fold(v).includes(wanted);
      const verb = {
        prefix: 'does not start with',
        suffix: 'does not end with',
        contains: 'does not contain',
      }[operator];
      return predicate(test, `which ${verb} ${JSON.stringify(text)}`);
    }
    case 'glob':
    case 'dial':
    case 'regex': {
      const source = scalar(operand, opPath);
      let pattern: LinearPattern;
      try {
        pattern =
          operator === 'glob'
            ? compileGlob(
                asNumber ? numberOperand('glob', source, options.defaultCountry) : source,
                caseSensitive,
              )
            : operator === 'dial'
              ? compileDialPattern(dialOperand(source))
              : compileRegex(source, caseSensitive);
      } catch (error) {
        throw new ConditionError(opPath, (error as Error).message);
      }
      const expectation = `which does not match ${operator} ${JSON.stringify(source)}`;
      return {
        canonical,
        conjuncts: [],
        // The values are read in order within the pattern's budget of characters per call;
        // one that does not fit in what is left is not tested, and does not match.
        test(context) {
          const found = values(context);
          let left = pattern.readable;
          let unread = 0;
          for (const value of found) {
            if (value.length > left) {
              unread += 1;
              continue;
            }
            left -= value.length;
            const captures = pattern.match(value);
            if (captures) return { ok: true, captures };
          }
          const note = unread
            ? ` (${unread} value${unread > 1 ? 's' : ''} not tested: past the ${pattern.readable} characters this pattern may read per call)`
            : '';
          return { ok: false, failure: `${path}: ${label} ${shown(found)}, ${expectation}${note}` };
        },
      };
    }
    case 'exists':
    case 'absent': {
      if (operand !== true) throw new ConditionError(opPath, 'must be true');
      const wantPresent = operator === 'exists';
      return {
        canonical,
        conjuncts: [],
        test(context) {
          const found = values(context);
          if (found.length > 0 === wantPresent) return OK;
          return {
            ok: false,
            failure: `${path}: ${label} ${shown(found)}, expected it ${wantPresent ? 'present' : 'absent'}`,
          };
        },
      };
    }
    default: {
      if (typeof operand !== 'number' || !Number.isFinite(operand))
        throw new ConditionError(opPath, 'must be a number');
      const compare = {
        gt: (n: number) => n > operand,
        gte: (n: number) => n >= operand,
        lt: (n: number) => n < operand,
        lte: (n: number) => n <= operand,
      }[operator];
      const symbol = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[operator];
      return predicate((v) => {
        const n = /^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : NaN;
        return Number.isFinite(n) && compare(n);
      }, `expected a number ${symbol} ${operand}`);
    }
  }
}

function compileTime(raw: unknown, options: CompileOptions, path: string): CompiledCondition {
  if (typeof raw !== 'object' || raw === null)
    throw new ConditionError(path, 'must be { days, from, to, timezone }');
  const spec = raw as Record<string, unknown>;
  onlyKeys(Object.keys(spec), ['days', 'from', 'to', 'timezone'], path);
  const days = (spec.days ?? WEEKDAYS) as unknown;
  if (
    !Array.isArray(days) ||
    days.length === 0 ||
    !days.every((d) => (WEEKDAYS as readonly string[]).includes(String(d).toLowerCase()))
  ) {
    throw new ConditionError(`${path}.days`, `must list days among ${WEEKDAYS.join(', ')}`);
  }
  const timezone = spec.timezone === undefined ? options.timezone : String(spec.timezone);
  let window: TimeWindow;
  try {
    assertTimeZone(timezone);
    window = {
      days: days.map((d) => String(d).toLowerCase() as Weekday),
      from: parseClock(String(spec.from ?? '00:00')),
      to: parseClock(String(spec.to ?? '24:00')),
      timezone,
    };
  } catch (error) {
    throw new ConditionError(path, (error as Error).message);
  }
  const described = `${window.days.join(',')} ${formatClock(window.from)}-${formatClock(window.to)} ${timezone}`;
  const condition: CompiledCondition = {
    canonical: `time(${described})`,
    conjuncts: [],
    test(context) {
      if (inWindow(window, context.now)) return OK;
      const local = localTime(context.now, timezone);
      return {
        ok: false,
        failure: `${path}: it is ${WEEKDAYS[local.day]} ${formatClock(local.minute)} in ${timezone}, outside ${described}`,
      };
    },
  };
  condition.conjuncts = [condition];
  return condition;
}

function readSubject(node: Record<string, unknown>, path: string): Subject {
  if ('header' in node === 'field' in node) {
    throw new ConditionError(
      path,
      'names exactly one of "header" (a SIP header) or "field" (such as caller.number)',
    );
  }
  if ('header' in node) {
    if (
      typeof node.header !== 'string' ||
      !/^[A-Za-z0-9!#$%&'*+\-.^_`|~]{1,128}$/.test(node.header)
    ) {
      throw new ConditionError(`${path}.header`, 'must be a SIP header name');
    }
    return { header: node.header };
  }
  if (typeof node.field !== 'string')
    throw new ConditionError(`${path}.field`, 'must be a string such as caller.number');
  try {
    validateFieldPath(node.field);
  } catch (error) {
    throw new ConditionError(`${path}.field`, (error as Error).message);
  }
  return { field: node.field };
}

function indexKey(subject: Subject, caseSensitive: boolean): string {
  return `${'header' in subject ? `h:${subject.header.toLowerCase()}` : `f:${subject.field}`}|${caseSensitive ? 'cs' : 'ci'}`;
}

function scalar(value: unknown, path: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new ConditionError(path, 'must be a string, number or boolean');
}

function stringList(value: unknown, path: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_LIST) {
    throw new ConditionError(path, `must be a list of 1 to ${MAX_LIST} values`);
  }
  return value.map((item, i) => scalar(item, `${path}[${i}]`));
}

function onlyKeys(keys: string[], allowed: string[], path: string): void {
  const extra = keys.find((key) => !allowed.includes(key));
  if (extra)
    throw new ConditionError(path, `unexpected key "${extra}" beside ${allowed.join('/')}`);
}
