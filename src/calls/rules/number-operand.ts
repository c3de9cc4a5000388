import { readPhoneNumber } from '../sip/address-number';
import { parseSipAddress } from '../sip/sip-address';

/**
 * A rule's operand for a `<role>.number` field is read the way the call's numbers are, so that
 * `tel:1-800-555-0100`, `"+1 800 555 0100"` and `800-555-0100` mean the same number:
 * - `equals`, `in`: the whole number, normalised to E.164 with the default country exactly as
 *   a header value is (a URI gives its number; what does not normalise keeps its digits).
 * - `prefix`, `suffix`, `contains`, `glob`: a piece of a number cannot be normalised (is `800`
 *   national or a fragment?), so only its form is: a `tel:`/`sip:` URI gives its number, and
 *   visual separators (`-`, `.`, `(`, `)`, spaces) go. Write prefixes in international form.
 * `regex` is taken as written: it sees the E.164 value.
 */
export function numberOperand(
  operator: 'equals' | 'in' | 'prefix' | 'suffix' | 'contains' | 'glob',
  text: string,
  defaultCountry: string,
): string {
  if (operator === 'equals' || operator === 'in') return readPhoneNumber(text, defaultCountry);
  return withoutSeparators(numberPart(text));
}

/**
 * Asterisk ignores `-` (and we also spaces and parentheses) in a dial pattern, and a pattern
 * without the leading `_` is a literal number, whose `.` is a separator too:
 * `_1-800-NXX-XXXX` is `_1800NXXXXXX`; `tel:1-800-555-0100` is `18005550100`.
 */
export function dialOperand(pattern: string): string {
  const text = numberPart(pattern);
  if (!text.startsWith('_')) return withoutSeparators(text);
  let out = '';
  let inSet = false;
  for (const ch of text) {
    if (ch === '[') inSet = true;
    else if (ch === ']') inSet = false;
    if (inSet || !'-() \t'.includes(ch)) out += ch;
  }
  return out;
}

const URI_FORM = /^<?(?:tel|sips?):/i;

/** The number of a `tel:`/`sip:` URI, or the text itself. */
function numberPart(text: string): string {
  const trimmed = text.trim();
  if (!URI_FORM.test(trimmed)) return trimmed;
  return parseSipAddress(trimmed)?.user ?? trimmed;
}

const SEPARATORS = /[-.() \t]/g;
const withoutSeparators = (text: string) => text.replace(SEPARATORS, '');
