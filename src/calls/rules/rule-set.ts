import { CallFacts } from '../sip/call-facts';
import { CompiledCondition, EvaluationContext } from './condition.compiler';
import { CompiledAction, RenderedAction } from './route-action';

export interface CompiledRule {
  id: string;
  description?: string;
  /** Position in evaluation order (after sorting by priority). */
  order: number;
  condition?: CompiledCondition;
  action: CompiledAction;
}

export interface RuleFailure {
  rule: string;
  failed: string;
}

/** Why a call went where it went: recorded with every call and answered by the dry run. */
export interface Explanation {
  matched: string | null;
  /** Each rule before the match that was evaluated, and the condition that failed. */
  rules_before: RuleFailure[];
  /** Rules passed over by the exact-match index: one of their equals/in conditions cannot hold. */
  skipped_by_index: number;
  error?: string;
}

export interface Decision {
  route: 'rule' | 'default' | 'on_error';
  rule: string | null;
  action: RenderedAction;
  captures: Record<string, string>;
  explanation: Explanation;
  rules_version: string;
}

interface IndexedSubject {
  lookup: (context: EvaluationContext) => string[];
  byValue: Map<string, number[]>;
}

/**
 * An immutable, compiled rule set. Swapped whole when rules change, so a call in flight sees
 * one version. First match wins; rules with an `equals`/`in` condition are found through an
 * index, so evaluation grows with the rules that could match, not with all rules.
 */
export class CompiledRuleSet {
  private readonly index = new Map<string, IndexedSubject>();
  private readonly unindexed: number[] = [];

  constructor(
    readonly version: string,
    readonly rules: readonly CompiledRule[],
    private readonly defaultAction: CompiledAction,
    private readonly onErrorAction: CompiledAction,
    readonly warnings: readonly string[],
    /** The country national numbers of calls are read in (`settings.default_country`). */
    readonly defaultCountry: string,
  ) {
    rules.forEach((rule, position) => {
      const exact = rule.condition?.exact;
      if (!exact) {
        this.unindexed.push(position);
        return;
      }
      let subject = this.index.get(exact.key);
      if (!subject) {
        subject = { lookup: exact.lookup, byValue: new Map() };
        this.index.set(exact.key, subject);
      }
      for (const value of exact.values) {
        const list = subject.byValue.get(value);
        if (list) list.push(position);
        else subject.byValue.set(value, [position]);
      }
    });
  }

  /**
   * Decides a call. `explainAll` evaluates every rule in order without the index (the dry run),
   * so each rule before the match gets its failing condition named.
   */
  decide(facts: CallFacts, now: Date, explainAll = false): Decision {
    const context: EvaluationContext = { facts, now };
    const explanation: Explanation = { matched: null, rules_before: [], skipped_by_index: 0 };
    try {
      const candidates = explainAll ? this.rules.map((_, i) => i) : this.candidates(context);
      explanation.skipped_by_index = 0;
      let previous = -1;
      for (const position of candidates) {
        const rule = this.rules[position];
        explanation.skipped_by_index += position - previous - 1;
        previous = position;
        const result = rule.condition
          ? rule.condition.test(context)
          : { ok: true as const, captures: {} };
        if (!result.ok) {
          explanation.rules_before.push({ rule: rule.id, failed: result.failure });
          continue;
        }
        explanation.matched = rule.id;
        const action = rule.action.render({ facts, captures: result.captures });
        return {
          route: 'rule',
          rule: rule.id,
          action,
          captures: result.captures,
          explanation,
          rules_version: this.version,
        };
      }
      explanation.skipped_by_index += this.rules.length - previous - 1;
      const action = this.defaultAction.render({ facts, captures: {} });
      return {
        route: 'default',
        rule: null,
        action,
        captures: {},
        explanation,
        rules_version: this.version,
      };
    } catch (error) {
      explanation.error = (error as Error).message;
      return this.onError(facts, explanation);
    }
  }

  /** The route for when evaluation itself fails; it must not fail in turn. */
  onError(facts: CallFacts, explanation: Explanation): Decision {
    let action: RenderedAction;
    try {
      action = this.onErrorAction.render({ facts, captures: {} });
    } catch {
      action = { type: 'reject', status_code: 500 };
    }
    return {
      route: 'on_error',
      rule: null,
      action,
      captures: {},
      explanation,
      rules_version: this.version,
    };
  }

  private candidates(context: EvaluationContext): number[] {
    if (this.index.size === 0) return this.unindexed;
    const found: number[] = [...this.unindexed];
    for (const subject of this.index.values()) {
      for (const value of subject.lookup(context)) {
        const positions = subject.byValue.get(value);
        if (positions) for (const position of positions) found.push(position);
      }
    }
    found.sort((a, b) => a - b);
    return found.filter((position, i) => i === 0 || found[i - 1] !== position);
  }
}
