import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { createHash } from 'node:crypto';
import { isSupportedCountry } from '../sip/phone-number';
import { summarizeCallerDataWarnings } from './caller-data';
import { compileCondition, ConditionError } from './condition.compiler';
import { RoutingRulesDocumentDto } from './dto/routing-rules.dto';
import { compileAction } from './route-action';
import { CompiledRule, CompiledRuleSet } from './rule-set';
import { assertTimeZone } from './time-window';

export interface RuleProblem {
  /** Where in the document, e.g. `rules[2].when.all[0].regex`. */
  path: string;
  message: string;
}

/** A rule set that cannot be used; every problem found is listed, with its path. */
export class RulesValidationError extends Error {
  constructor(readonly problems: RuleProblem[]) {
    super(`invalid routing rules: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  }
}

export const DEFAULT_PRIORITY = 100;
/** When no rule matches: nothing routes this number. */
export const DEFAULT_NO_MATCH_ACTION = { reject: { status_code: 404 } };
/** When evaluation fails. */
export const DEFAULT_ON_ERROR_ACTION = { reject: { status_code: 500 } };

const DOCUMENT_KEYS = ['version', 'settings', 'rules', 'default', 'on_error'];
const RULE_KEYS = ['id', 'description', 'priority', 'enabled', 'when', 'action'];
const SETTINGS_KEYS = ['default_country', 'timezone'];

/**
 * Validates and compiles a whole rule set; throws `RulesValidationError` listing every problem.
 * The same function serves the rules file, the REST API and the offline tester.
 */
export function compileRuleSet(raw: unknown): CompiledRuleSet {
  const problems: RuleProblem[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new RulesValidationError([
      { path: '(document)', message: 'must be an object with a "rules" list' },
    ]);
  }
  const document = raw as Record<string, unknown>;
  unknownKeys(document, DOCUMENT_KEYS, '(document)', problems);
  if (isObject(document.settings))
    unknownKeys(document.settings, SETTINGS_KEYS, 'settings', problems);
  if (Array.isArray(document.rules)) {
    document.rules.forEach(
      (rule, i) => isObject(rule) && unknownKeys(rule, RULE_KEYS, `rules[${i}]`, problems),
    );
  }
  const dto = plainToInstance(RoutingRulesDocumentDto, document);
  problems.push(...flatten(validateSync(dto, { forbidUnknownValues: true })));
  if (problems.length > 0) throw new RulesValidationError(problems);

  const options = {
    defaultCountry: dto.settings?.default_country ?? 'US',
    timezone: dto.settings?.timezone ?? 'UTC',
  };
  attempt(problems, 'settings.default_country', () => {
    if (!isSupportedCountry(options.defaultCountry))
      throw new Error(`unknown country "${options.defaultCountry}"`);
  });
  attempt(problems, 'settings.timezone', () => assertTimeZone(options.timezone));

  const seen = new Map<string, number>();
  const ordered = dto.rules
    .map((rule, written) => ({
      rule,
      written,
      raw: (document.rules as Record<string, unknown>[])[written],
    }))
    .filter(({ rule, written }) => {
      const earlier = seen.get(rule.id);
      if (earlier !== undefined) {
        problems.push({
          path: `rules[${written}].id`,
          message: `"${rule.id}" is also the id of rules[${earlier}]`,
        });
      }
      seen.set(rule.id, written);
      return rule.enabled !== false;
    })
    .sort(
      (a, b) =>
        (a.rule.priority ?? DEFAULT_PRIORITY) - (b.rule.priority ?? DEFAULT_PRIORITY) ||
        a.written - b.written,
    );

  const rules: CompiledRule[] = [];
  // Where caller data flows unconstrained into a session or a transfer target (caller-data.ts).
  const callerDataWarnings: string[] = [];
  for (const { rule, written, raw: rawRule } of ordered) {
    const path = `rules[${written}]`;
    let condition;
    try {
      condition =
        rule.when === undefined
          ? undefined
          : compileCondition(rawRule.when, options, `${path}.when`);
    } catch (error) {
      problems.push(asProblem(error, `${path}.when`));
      continue;
    }
    const action = attempt(problems, `${path}.action`, () =>
      compileAction(rawRule.action as Record<string, unknown>, `${path}.action`),
    );
    callerDataWarnings.push(...(action?.warnings ?? []).map((w) => `rule "${rule.id}": ${w}`));
    if (action)
      rules.push({
        id: rule.id,
        description: rule.description,
        order: rules.length,
        condition,
        action,
      });
  }
  const defaultAction = attempt(problems, 'default', () =>
    compileAction(
      (document.default ?? DEFAULT_NO_MATCH_ACTION) as Record<string, unknown>,
      'default',
    ),
  );
  const onErrorAction = attempt(problems, 'on_error', () =>
    compileAction(
      (document.on_error ?? DEFAULT_ON_ERROR_ACTION) as Record<string, unknown>,
      'on_error',
    ),
  );
  if (problems.length > 0 || !defaultAction || !onErrorAction)
    throw new RulesValidationError(problems);

  return new CompiledRuleSet(
    versionOf(document),
    rules,
    defaultAction,
    onErrorAction,
    [
      ...shadowWarnings(rules),
      ...summarizeCallerDataWarnings([
        ...callerDataWarnings,
        ...defaultAction.warnings,
        ...onErrorAction.warnings,
      ]),
    ],
    options.defaultCountry,
  );
}

/** A short, stable version of a rule set: the hash of its canonical JSON. Used as the ETag. */
export function versionOf(document: unknown): string {
  return createHash('sha256').update(canonicalJson(document)).digest('hex').slice(0, 16);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Rules an earlier rule makes unreachable: an earlier rule without a condition, or one whose
 * conditions are a subset of this rule's, matches every call this one would.
 */
function shadowWarnings(rules: CompiledRule[]): string[] {
  const warnings: string[] = [];
  let catchAll: string | undefined;
  // Earlier rules, found by any one of their conjuncts: only those can be subsets.
  const byConjunct = new Map<string, { id: string; conjuncts: Set<string> }[]>();
  for (const rule of rules) {
    if (catchAll) {
      warnings.push(
        `rule "${rule.id}" is unreachable: the earlier rule "${catchAll}" matches every call`,
      );
      continue;
    }
    if (!rule.condition) {
      catchAll = rule.id;
      continue;
    }
    const own = new Set(rule.condition.conjuncts.map((c) => c.canonical));
    const shadow = [...own]
      .flatMap((canonical) => byConjunct.get(canonical) ?? [])
      .find((earlier) => [...earlier.conjuncts].every((c) => own.has(c)));
    if (shadow) {
      warnings.push(
        `rule "${rule.id}" is unreachable: the earlier rule "${shadow.id}" matches every call it would`,
      );
    }
    const first = [...own][0];
    const entry = { id: rule.id, conjuncts: own };
    byConjunct.set(first, [...(byConjunct.get(first) ?? []), entry]);
  }
  return warnings;
}

function attempt<T>(problems: RuleProblem[], path: string, run: () => T): T | undefined {
  try {
    return run();
  } catch (error) {
    problems.push(asProblem(error, path));
    return undefined;
  }
}

function asProblem(error: unknown, fallbackPath: string): RuleProblem {
  if (error instanceof ConditionError)
    return { path: error.path, message: error.message.slice(error.path.length + 2) };
  const message = (error as Error).message;
  const match = /^([\w.[\]]+): (.*)$/s.exec(message);
  return match ? { path: match[1], message: match[2] } : { path: fallbackPath, message };
}

function unknownKeys(
  object: Record<string, unknown>,
  allowed: string[],
  path: string,
  problems: RuleProblem[],
): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key))
      problems.push({ path, message: `unknown key "${key}" (allowed: ${allowed.join(', ')})` });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function flatten(errors: ValidationError[], parent = ''): RuleProblem[] {
  return errors.flatMap((error) => {
    const segment = /^\d+$/.test(error.property)
      ? `[${error.property}]`
      : parent
        ? `.${error.property}`
        : error.property;
    const path = `${parent}${segment}`;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ path, message }));
    return [...own, ...flatten(error.children ?? [], path)];
  });
}
