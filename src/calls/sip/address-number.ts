import { looksLikePhoneNumber, normalizePhoneNumber } from './phone-number';
import { parseSipAddress, SipAddress } from './sip-address';

/**
 * The comparable number of an address (`caller.number`, `called.number`...): its user part or
 * `tel:` number normalised to E.164 with the default country, or undefined when the address is
 * not a phone number at all (`sip:alice@example.com`). A local `tel:` number whose
 * `phone-context` is a global number prefix (RFC 3966 section 5.1.5) is read as that number.
 */
export function addressNumber(address: SipAddress, defaultCountry?: string): string | undefined {
  const user = address.user;
  if (!user) return undefined;
  const isPhone =
    address.scheme === 'tel' ||
    address.params.user?.toLowerCase() === 'phone' ||
    looksLikePhoneNumber(user);
  if (!isPhone) return undefined;
  const context = address.userParams['phone-context']?.trim();
  const global = context?.startsWith('+') && !user.startsWith('+') ? `${context}${user}` : user;
  return normalizePhoneNumber(global, defaultCountry);
}

const URI_FORM = /^<?(?:tel|sips?):/i;

/**
 * A number as a rules author writes it, read exactly as a header value would be: a URI
 * (`tel:1-800-555-0100`, `sip:+18005550100@gw`) gives its number; anything else is normalised
 * as written (`"+1 800 555 0100"`, `800-555-0100`).
 */
export function readPhoneNumber(text: string, defaultCountry?: string): string {
  const trimmed = text.trim();
  if (URI_FORM.test(trimmed)) {
    const address = parseSipAddress(trimmed);
    const number = address && addressNumber(address, defaultCountry);
    if (number !== undefined) return number;
  }
  return normalizePhoneNumber(trimmed, defaultCountry);
}
