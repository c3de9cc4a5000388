import {
  CountryCode,
  isSupportedCountry as knownCountry,
  parsePhoneNumberFromString,
} from 'libphonenumber-js/max';

const PHONE_LIKE = /^\+?[0-9()\-. ]{2,32}$/;
const VISUAL_SEPARATORS = /[()\-. ]/g;

/**
 * The comparable form of a phone number: E.164 (`+14155550123`) when it normalises with the
 * default country, else the raw digits as given. `004930...` under a US default stays
 * `004930...` instead of silently becoming a US number.
 */
export function normalizePhoneNumber(raw: string, defaultCountry?: string): string {
  const trimmed = raw.trim();
  if (!PHONE_LIKE.test(trimmed)) return trimmed;
  const parsed = parsePhoneNumberFromString(trimmed, defaultCountry as CountryCode | undefined);
  if (parsed?.isValid()) return parsed.number;
  return trimmed.replace(VISUAL_SEPARATORS, '');
}

/** Whether a string looks like a phone number at all (digits with visual separators). */
export function looksLikePhoneNumber(text: string): boolean {
  return PHONE_LIKE.test(text.trim()) && /\d/.test(text);
}

/** Whether libphonenumber knows this ISO 3166 alpha-2 code (`US`, `DE`...). */
export function isSupportedCountry(code: string): boolean {
  return knownCountry(code);
}

/**
 * Whether `+` and these digits can be a phone number anywhere: a known country calling code
 * and a length that country's numbers can have (libphonenumber's "possible" check).
 */
export function isPossibleGlobalNumber(digits: string): boolean {
  return parsePhoneNumberFromString(`+${digits}`)?.isPossible() === true;
}
