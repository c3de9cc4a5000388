import type { Decision } from '../rules/rule-set';
import type { CallFacts } from '../sip/call-facts';
import type { CallRecord } from '../store/call-store';
import { planSurface } from '../surfaces/surface-plan';
import { otherSurface, SurfaceName } from '../surfaces/surface-name';

/**
 * The surface whose announcement the decision should wait for, if any: the one its accept
 * prefers when that has not announced the call yet, or the other one when a rule read a fact
 * the twin could change (`call.surfaces`, a `sip_media_security` not said yet).
 */
export function twinToWaitFor(
  decision: Decision,
  facts: CallFacts,
  announced: SurfaceName[],
  mayWait: boolean,
): SurfaceName | undefined {
  if (!mayWait || announced.length > 1) return undefined;
  const plan = planSurface(decision.action, announced, true);
  if (plan.kind === 'wait') return plan.surface;
  return facts.offer.readTwinFacts ? otherSurface(announced[0]) : undefined;
}

/** What the announcements say about the media's security: the first that says anything. */
export function mediaSecurityOf(record: CallRecord): string | undefined {
  return Object.values(record.surfaces).find((arrival) => arrival?.sip_media_security)
    ?.sip_media_security;
}
