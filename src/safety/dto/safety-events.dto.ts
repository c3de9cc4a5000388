import { EventType } from '../../common/dto/event-type.decorator';
import { ObjectReferenceEventDto } from '../../common/dto/webhook-event.dto';

/**
 * `safety.alert.created`: an approved safety alert (misalignment monitoring) is available for
 * an API project; `data.id` is the alert (`GET /v1/safety/alerts/{id}`).
 */
export class SafetyAlertCreatedEvent extends ObjectReferenceEventDto {
  @EventType('safety.alert.created')
  type!: 'safety.alert.created';
}

/** `safety.org_alert.created`: an approved safety alert is available for an enterprise workspace. */
export class SafetyOrgAlertCreatedEvent extends ObjectReferenceEventDto {
  @EventType('safety.org_alert.created')
  type!: 'safety.org_alert.created';
}

/**
 * `safety.warning_issued`: a warning for a safety identifier of the organization; `data.id` is
 * the case (`GET /v1/safety/cases/{id}`).
 */
export class SafetyWarningIssuedEvent extends ObjectReferenceEventDto {
  @EventType('safety.warning_issued')
  type!: 'safety.warning_issued';
}

/** `safety.deactivation_issued`: a deactivation for a safety identifier; `data.id` is the case. */
export class SafetyDeactivationIssuedEvent extends ObjectReferenceEventDto {
  @EventType('safety.deactivation_issued')
  type!: 'safety.deactivation_issued';
}

export const SAFETY_EVENTS = {
  'safety.alert.created': SafetyAlertCreatedEvent,
  'safety.deactivation_issued': SafetyDeactivationIssuedEvent,
  'safety.org_alert.created': SafetyOrgAlertCreatedEvent,
  'safety.warning_issued': SafetyWarningIssuedEvent,
} as const;
