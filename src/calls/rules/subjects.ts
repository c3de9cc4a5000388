import {
  ADDRESS_PARAM_PARTS,
  ADDRESS_PARTS,
  ADDRESS_ROLES,
  AddressPart,
  AddressRole,
  addressPart,
  CallFacts,
} from '../sip/call-facts';

/** What a condition looks at: a raw header, or a SIP-aware field. */
export type Subject = { header: string } | { field: string };

const ROLES: readonly string[] = ADDRESS_ROLES;
const PARTS: readonly string[] = ADDRESS_PARTS;

/** Fields that come from OpenAI's announcements, not from a SIP header. */
export const OFFER_FIELDS = ['call.surfaces', 'sip_media_security'] as const;

/**
 * Throws unless the path names a field: `call_id`, `caller.withheld`, `call.surfaces`,
 * `sip_media_security`, `<role>.<part>`, or one parameter: `<role>.params.<name>`,
 * `<role>.user_params.<name>`, `<role>.uri_headers.<name>`.
 */
export function validateFieldPath(path: string): void {
  if (path === 'call_id' || path === 'caller.withheld') return;
  if ((OFFER_FIELDS as readonly string[]).includes(path)) return;
  const [role, part, ...rest] = path.split('.');
  if (!ROLES.includes(role)) {
    throw new Error(
      `unknown field "${path}": it starts with one of ${ADDRESS_ROLES.join(', ')}, or is call_id, call.surfaces or sip_media_security`,
    );
  }
  const paramParts: readonly string[] = ADDRESS_PARAM_PARTS;
  if (paramParts.includes(part) && rest.length === 1 && rest[0].length > 0) return;
  if (rest.length > 0 || !PARTS.includes(part)) {
    throw new Error(
      `unknown field "${path}": after "${role}." comes one of ${ADDRESS_PARTS.join(', ')}, or ${ADDRESS_PARAM_PARTS.map((p) => `${p}.<name>`).join(', ')}`,
    );
  }
}

/** `call.surfaces`, `sip_media_security`: facts of OpenAI's announcements, not of a header. */
export function isOfferField(subject: Subject): boolean {
  return 'field' in subject && (OFFER_FIELDS as readonly string[]).includes(subject.field);
}

/** `<role>.number`: values normalised to E.164, and so are a rule's operands for them. */
export function isNumberField(subject: Subject): boolean {
  if (!('field' in subject)) return false;
  const [, part, ...rest] = subject.field.split('.');
  return part === 'number' && rest.length === 0;
}

/** The subject's values for this call: none when absent, several for repeated headers. */
export function resolveSubject(facts: CallFacts, subject: Subject): string[] {
  if ('header' in subject) return [...facts.headers.all(subject.header)];
  const path = subject.field;
  if (path === 'call_id') return [facts.callId];
  if (path === 'caller.withheld') return [String(facts.withheld)];
  const offer = facts.offer;
  if (path === 'call.surfaces') {
    // Which surfaces announced the call is only known once the twin has had its chance.
    if (offer.twinMayCome) offer.readTwinFacts = true;
    return [...offer.surfaces];
  }
  if (path === 'sip_media_security') {
    if (offer.mediaSecurity !== undefined) return [offer.mediaSecurity];
    if (offer.twinMayCome) offer.readTwinFacts = true; // the twin's announcement may say it
    return [];
  }
  const dot = path.indexOf('.');
  return addressPart(facts, path.slice(0, dot) as AddressRole, path.slice(dot + 1) as AddressPart);
}

export function describeSubject(subject: Subject): string {
  return 'header' in subject ? `header ${subject.header}` : subject.field;
}
