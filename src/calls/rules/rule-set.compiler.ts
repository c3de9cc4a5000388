import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { createHash } from 'node:crypto';
import { isSupportedCountry } from '../sip/phone-number';
import { shapeProblem } from '../../common/document-shape';
import { summarizeCallerDataWarnings } from './caller-data';
import {
  CompileOptions,
  CompiledCondition,
  compileCondition,
  ConditionError,
  ConditionErrors,
} from './condition.compiler';
import { RoutingRuleDto, RoutingRulesDocumentDto } from './dto/routing-rules.dto';
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

/** How long compiling runs before it lets other work (a ringing call) have the process. */
const SLICE_MS = 5;

/**
 * Validates and compiles a whole rule set; throws `RulesValidationError` listing every problem
 * at once: schema, unknown keys, conditions (patterns, fields) and templates, each with its path.
 * The same function serves the rules file, the REST API and the offline tester.
 */
export function compileRuleSet(raw: unknown): CompiledRuleSet {
  const steps = compileInSteps(raw);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * `compileRuleSet` for a running service: the work is cut into slices of a few milliseconds
 * with the event loop free between them, so deliveries and calls are answered while thousands
 * of rules compile. Same result, same errors.
 */
export async function compileRuleSetInSlices(raw: unknown): Promise<CompiledRuleSet> {
  const steps = compileInSteps(raw);
  let sliceStart = performance.now();
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (performance.now() - sliceStart >= SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
}

/** The compilation, yielding after each step that may take a while (one rule, say). */
function* compileInSteps(raw: unknown): Generator<void, CompiledRuleSet, void> {
  const shape = shapeProblem(raw);
  yield;
  if (shape) throw new RulesValidationError([{ path: '(document)', message: shape }]);
  if (!isObject(raw)) {
    throw new RulesValidationError([
      { path: '(document)', message: 'must be an object with a "rules" list' },
    ]);
  }
  const document = raw;
  const problems: RuleProblem[] = [];
  const problemAt = (path: string) =>
    problems.some((p) => p.path === path || p.path.startsWith(`${path}.`));

  unknownKeys(document, DOCUMENT_KEYS, '(document)', problems);
  if (isObject(document.settings))
    unknownKeys(document.settings, SETTINGS_KEYS, 'settings', problems);
  // The document's own fields; its rules are validated one by one below, each whole.
  const rawRules = Array.isArray(document.rules) ? (document.rules as unknown[]) : undefined;
  const dto = plainToInstance(RoutingRulesDocumentDto, { ...document, rules: [] });
  if (!rawRules) dto.rules = document.rules as RoutingRuleDto[];
  problems.push(...validate(dto));

  const options = {
    defaultCountry:
      typeof dto.settings?.default_country === 'string' ? dto.settings.default_country : 'US',
    timezone: typeof dto.settings?.timezone === 'string' ? dto.settings.timezone : 'UTC',
  };
  if (!problemAt('settings.default_country'))
    attempt(problems, 'settings.default_country', () => {
      if (!isSupportedCountry(options.defaultCountry))
        throw new Error(`unknown country "${options.defaultCountry}"`);
    });
  if (!problemAt('settings.timezone'))
    attempt(problems, 'settings.timezone', () => assertTimeZone(options.timezone));

  const compiled: { rule: CompiledRule; priority: number; written: number }[] = [];
  const seen = new Map<string, number>();
  for (const [written, rawRule] of (rawRules ?? []).entries()) {
    yield;
    const id = isObject(rawRule) && typeof rawRule.id === 'string' ? rawRule.id : undefined;
    const earlier = id === undefined ? undefined : seen.get(id);
    if (earlier !== undefined) {
      problems.push({
        path: `rules[${written}].id`,
        message: `"${id}" is also the id of rules[${earlier}]`,
      });
    } else if (id !== undefined) seen.set(id, written);
    const rule = compileRule(rawRule, `rules[${written}]`, options, problems);
    if (!rule || rule.dto.enabled === false) continue;
    compiled.push({
      rule: rule.compiled,
      priority: rule.dto.priority ?? DEFAULT_PRIORITY,
      written,
    });
  }
  yield;

  const fallback = (key: 'default' | 'on_error', builtIn: Record<string, unknown>) =>
    problemAt(key)
      ? undefined
      : attempt(problems, key, () =>
          compileAction((document[key] ?? builtIn) as Record<string, unknown>, key),
        );
  const defaultAction = fallback('default', DEFAULT_NO_MATCH_ACTION);
  const onErrorAction = fallback('on_error', DEFAULT_ON_ERROR_ACTION);
  if (problems.length > 0 || !defaultAction || !onErrorAction)
    throw new RulesValidationError(problems);

  const rules = compiled
    .sort((a, b) => a.priority - b.priority || a.written - b.written)
    .map(({ rule }, order) => ({ ...rule, order }));
  const version = versionOf(document);
  yield;
  // Where caller data flows unconstrained into a session or a transfer target (caller-data.ts).
  const callerDataWarnings = rules.flatMap((rule) =>
    rule.action.warnings.map((warning) => `rule "${rule.id}": ${warning}`),
  );
  const warnings = [
    ...shadowWarnings(rules),
    ...summarizeCallerDataWarnings([
      ...callerDataWarnings,
      ...defaultAction.warnings,
      ...onErrorAction.warnings,
    ]),
  ];
  yield;
  return new CompiledRuleSet(
    version,
    rules,
    defaultAction,
    onErrorAction,
    warnings,
    options.defaultCountry,
  );
}

/**
 * One rule, checked whole: its keys, its fields, its condition and its action, so that one
 * mistake does not hide another. Undefined when it has problems (they are added).
 */
function compileRule(
  raw: unknown,
  path: string,
  options: CompileOptions,
  problems: RuleProblem[],
): { dto: RoutingRuleDto; compiled: CompiledRule } | undefined {
  if (!isObject(raw)) {
    problems.push({ path, message: 'a rule is an object with an id and an action' });
    return undefined;
  }
  const before = problems.length;
  unknownKeys(raw, RULE_KEYS, path, problems);
  const dto = plainToInstance(RoutingRuleDto, raw);
  problems.push(...validate(dto, path));
  const own = () => problems.slice(before);
  const problemAt = (at: string) => own().some((p) => p.path === at || p.path.startsWith(`${at}.`));

  let condition: CompiledCondition | undefined;
  if (raw.when !== undefined && !problemAt(`${path}.when`)) {
    try {
      condition = compileCondition(raw.when, options, `${path}.when`);
    } catch (error) {
      const errors: unknown[] = error instanceof ConditionErrors ? error.errors : [error];
      problems.push(...errors.map((one) => asProblem(one, `${path}.when`)));
    }
  }
  const action = problemAt(`${path}.action`)
    ? undefined
    : attempt(problems, `${path}.action`, () =>
        compileAction(raw.action as Record<string, unknown>, `${path}.action`),
      );
  if (problems.length > before || !action) return undefined;
  return {
    dto,
    compiled: { id: dto.id, description: dto.description, order: 0, condition, action },
  };
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
 * conjuncts are a subset of this rule's, matches every call this one would. Each rule is filed
 * under its rarest conjunct, so a rule meets only the earlier rules filed under one of its own
 * conjuncts: a condition shared by thousands of rules (`X-Tier: gold` beside each number) does
 * not make every rule compare itself with every earlier one.
 */
function shadowWarnings(rules: CompiledRule[]): string[] {
  const conjunctsOf = rules.map(
    (rule) => new Set(rule.condition?.conjuncts.map((c) => c.canonical) ?? []),
  );
  const frequency = new Map<string, number>();
  for (const own of conjunctsOf)
    for (const canonical of own) frequency.set(canonical, (frequency.get(canonical) ?? 0) + 1);

  const warnings: string[] = [];
  let catchAll: string | undefined;
  const filed = new Map<string, { id: string; conjuncts: Set<string> }[]>();
  rules.forEach((rule, i) => {
    if (catchAll) {
      warnings.push(
        `rule "${rule.id}" is unreachable: the earlier rule "${catchAll}" matches every call`,
      );
      return;
    }
    if (!rule.condition) {
      catchAll = rule.id;
      return;
    }
    const own = conjunctsOf[i];
    let shadow: string | undefined;
    for (const canonical of own) {
      const earlier = filed.get(canonical)?.find((e) => [...e.conjuncts].every((c) => own.has(c)));
      if (earlier) {
        shadow = earlier.id;
        break;
      }
    }
    if (shadow) {
      warnings.push(
        `rule "${rule.id}" is unreachable: the earlier rule "${shadow}" matches every call it would`,
      );
    }
    let rarest = '';
    let fewest = Infinity;
    for (const canonical of own) {
      const count = frequency.get(canonical)!;
      if (count < fewest) [rarest, fewest] = [canonical, count];
    }
    const list = filed.get(rarest);
    if (list) list.push({ id: rule.id, conjuncts: own });
    else filed.set(rarest, [{ id: rule.id, conjuncts: own }]);
  });
  return warnings;
}

function attempt<T>(problems: RuleProblem[], path: string, run: () => T): T | undefined {
  try {
    return run();
  } catch (error) {
    // Several mistakes found at once (in a condition tree, or an accept's sessions): each listed.
    const errors: unknown[] = error instanceof ConditionErrors ? error.errors : [error];
    problems.push(...errors.map((one) => asProblem(one, path)));
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

function validate(dto: object, parent = ''): RuleProblem[] {
  return flatten(validateSync(dto, { forbidUnknownValues: true, stopAtFirstError: true }), parent);
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
