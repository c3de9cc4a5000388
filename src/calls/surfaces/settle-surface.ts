import type { CallFacts } from '../sip/call-facts';
import type { CompiledRuleSet, Decision } from '../rules/rule-set';
import type { ControlRequest } from './call-surface';
import { planSurface } from './surface-plan';
import type { SurfaceName } from './surface-name';

/** A decision as it is carried out: on which surface, with which request. */
export interface SettledDecision {
  decision: Decision;
  surface: SurfaceName;
  request: Exclude<ControlRequest, { type: 'hangup' }>;
}

/** When even `on_error` cannot be carried out on the surfaces that announced the call. */
const LAST_RESORT = { type: 'reject', status_code: 500 } as const;

/**
 * Where a decision goes once waiting is over, given the surfaces that announced the call (in
 * order of arrival): its surface and request; or, when no announced surface can carry it (an
 * accept for the other surface only), the rule set's `on_error`, its explanation saying why;
 * and should `on_error` be such an accept too, a reject with 500 on the first surface. The
 * service, the dry run and the offline tester all settle decisions here.
 */
export function settleOnSurface(
  set: CompiledRuleSet,
  facts: CallFacts,
  decision: Decision,
  announced: readonly SurfaceName[],
): SettledDecision {
  let settled = decision;
  let plan = planSurface(settled.action, announced, false);
  if (plan.kind === 'unusable') {
    settled = set.onError(facts, { ...decision.explanation, error: plan.reason });
    plan = planSurface(settled.action, announced, false);
    if (plan.kind !== 'send') {
      settled = { ...settled, action: LAST_RESORT };
      plan = planSurface(settled.action, announced, false);
    }
  }
  if (plan.kind !== 'send') throw new Error('a reject always has a surface'); // never: see above
  return {
    decision: settled,
    surface: plan.surface,
    request: plan.request as SettledDecision['request'],
  };
}
