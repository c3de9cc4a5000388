#!/usr/bin/env node
// Tests routing rules offline, for a CI of your own rules:
//   npm run rules:test -- <rules.yaml> [cases.yaml]
// Exit code 0 when the rules are valid and every case decides as expected, 1 otherwise.
import { isDeepStrictEqual } from 'node:util';
import { deriveCallFacts } from '../sip/call-facts';
import { settleOnSurface } from '../surfaces/settle-surface';
import { isSurfaceName } from '../surfaces/surface-name';
import { CompiledRuleSet } from './rule-set';
import { compileRuleSet, RulesValidationError } from './rule-set.compiler';
import { locateProblems, readRulesFile, RulesFileError } from './rules-file';

interface RuleCase {
  name?: string;
  sip_headers: { name: string; value: string }[];
  at?: string;
  /** The surfaces that announced the call, in order of arrival; default [realtime]. */
  surfaces?: unknown;
  sip_media_security?: unknown;
  expect: { rule: string; action?: unknown; surface?: unknown; request?: unknown };
}

export function runRulesCli(args: string[], out: (line: string) => void): number {
  const [rulesPath, casesPath] = args;
  if (!rulesPath) {
    out('usage: npm run rules:test -- <rules.yaml|json> [cases.yaml|json]');
    return 1;
  }
  let set: CompiledRuleSet;
  try {
    const parsed = readRulesFile(rulesPath);
    try {
      set = compileRuleSet(parsed.document);
    } catch (error) {
      if (error instanceof RulesValidationError) throw locateProblems(error, parsed, rulesPath);
      throw error;
    }
  } catch (error) {
    out(
      error instanceof RulesFileError ? error.message : `${rulesPath}: ${(error as Error).message}`,
    );
    return 1;
  }
  out(
    `${rulesPath}: valid, version ${set.version}, ${set.rules.length} rule(s) in evaluation order: ${set.rules.map((r) => r.id).join(', ')}`,
  );
  for (const warning of set.warnings) out(`warning: ${warning}`);
  if (!casesPath) return 0;

  let cases: RuleCase[];
  try {
    cases = readRulesFile(casesPath).document as RuleCase[];
    if (!Array.isArray(cases)) throw new Error('must be a list of cases');
  } catch (error) {
    out(`${casesPath}: ${(error as Error).message}`);
    return 1;
  }
  let failures = 0;
  cases.forEach((testCase, i) => {
    const name = testCase.name ?? `case ${i + 1}`;
    const problem = checkCase(set, testCase);
    if (problem) failures += 1;
    out(`${problem ? 'FAIL' : 'ok  '} ${name}${problem ? `\n     ${problem}` : ''}`);
  });
  out(
    `${cases.length - failures} of ${cases.length} case(s) decide as expected${failures ? `; ${failures} do not` : ''}`,
  );
  return failures === 0 ? 0 : 1;
}

function checkCase(set: CompiledRuleSet, testCase: RuleCase): string | undefined {
  if (!Array.isArray(testCase.sip_headers) || typeof testCase.expect?.rule !== 'string') {
    return 'a case needs sip_headers (a list of { name, value }) and expect.rule';
  }
  const at = testCase.at ? new Date(testCase.at) : new Date();
  if (Number.isNaN(at.getTime())) return `"at" is not a time: ${testCase.at}`;
  const surfaces = testCase.surfaces ?? ['realtime'];
  if (
    !Array.isArray(surfaces) ||
    surfaces.length === 0 ||
    !surfaces.every(isSurfaceName) ||
    new Set(surfaces).size !== surfaces.length
  ) {
    return `"surfaces" must list realtime and/or live, in order of arrival, each once`;
  }
  const mediaSecurity = testCase.sip_media_security;
  if (mediaSecurity !== undefined && typeof mediaSecurity !== 'string')
    return `"sip_media_security" must be text such as srtp`;
  const facts = deriveCallFacts(
    surfaces[0] === 'live' ? 'live_rules_test' : 'rtc_rules_test',
    testCase.sip_headers,
    set.defaultCountry,
    { surfaces, mediaSecurity, twinMayCome: false },
  );
  const settled = settleOnSurface(set, facts, set.decide(facts, at, true), surfaces);
  const { decision } = settled;
  const got = decision.rule ?? decision.route;
  if (got !== testCase.expect.rule) {
    const why = decision.explanation.rules_before.find((r) => r.rule === testCase.expect.rule);
    return `expected rule ${testCase.expect.rule}, got ${got}${why ? ` (${why.failed})` : ''}${decision.explanation.error ? ` (${decision.explanation.error})` : ''}`;
  }
  if (testCase.expect.action !== undefined && !contains(decision.action, testCase.expect.action)) {
    return `expected action ${JSON.stringify(testCase.expect.action)}, got ${JSON.stringify(decision.action)}`;
  }
  if (testCase.expect.surface !== undefined && testCase.expect.surface !== settled.surface) {
    return `expected surface ${String(testCase.expect.surface)}, got ${settled.surface}`;
  }
  if (
    testCase.expect.request !== undefined &&
    !contains(settled.request, testCase.expect.request)
  ) {
    return `expected request ${JSON.stringify(testCase.expect.request)}, got ${JSON.stringify(settled.request)}`;
  }
  return undefined;
}

/** Whether `actual` holds every field of `expected` (deeply). */
function contains(actual: unknown, expected: unknown): boolean {
  if (typeof expected !== 'object' || expected === null || Array.isArray(expected))
    return isDeepStrictEqual(actual, expected);
  if (typeof actual !== 'object' || actual === null) return false;
  return Object.entries(expected).every(([key, value]) =>
    contains((actual as Record<string, unknown>)[key], value),
  );
}

if (require.main === module) {
  process.exitCode = runRulesCli(process.argv.slice(2), (line) => console.log(line));
}
