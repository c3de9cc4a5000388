import {
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

/** Throws unless the path names a field: `call_id`, `caller.withheld`, `<role>.<part>`, `<role>.params.<name>`. */
export function validateFieldPath(path: string): void {
  if (path === 'call_id' || path === 'caller.withheld') return;
  const [role, part, ...rest] = path.split('.');
  if (!ROLES.includes(role)) {
    throw new Error(
      `unknown field "${path}": it starts with one of ${ADDRESS_ROLES.join(', ')}, or is call_id`,
    );
  }
  if (part === 'params' && rest.length === 1 && rest[0].length > 0) return;
  if (rest.length > 0 || !PARTS.includes(part)) {
    throw new Error(
      `unknown field "${path}": after "${role}." comes one of ${ADDRESS_PARTS.join(', ')} or params.<name>`,
    );
  }
}

export function isNumberField(subject: Subject): boolean {
  return 'field' in subject && subject.field.endsWith('.number');
}

/** The subject's values for this call: none when absent, several for repeated headers. */
export function resolveSubject(facts: CallFacts, subject: Subject): string[] {
  if ('header' in subject) return [...facts.headers.all(subject.header)];
  const path = subject.field;
  if (path === 'call_id') return [facts.callId];
  if (path === 'caller.withheld') return [String(facts.withheld)];
  const dot = path.indexOf('.');
  return addressPart(facts, path.slice(0, dot) as AddressRole, path.slice(dot + 1) as AddressPart);
}

export function describeSubject(subject: Subject): string {
  return 'header' in subject ? `header ${subject.header}` : subject.field;
}
