import { isPossibleGlobalNumber } from './phone-number';
import {
  HEADER_CHARS,
  isAlpha,
  isAlphanumeric,
  isDigit,
  isEscapedRun,
  isHexDigit,
  PARAM_CHARS,
  PASSWORD_CHARS,
  TEL_PARAM_NAME_CHARS,
  USER_CHARS,
  VISUAL_SEPARATORS,
} from './sip-grammar';

/** Longest transfer target Switchboard sends. */
export const MAX_TARGET_URI_LENGTH = 2048;

/**
 * Checks a URI Switchboard is about to send (a refer target) strictly, by the grammar of
 * RFC 3261 section 25.1 (`sip:`, `sips:`) and RFC 3966 (`tel:`). Returns what is wrong, as the
 * end of a sentence about the URI ("has an empty user part before "@""), or undefined when it
 * is valid. Linear in the length of the URI.
 */
export function checkTargetUri(uri: string): string | undefined {
  if (uri.length > MAX_TARGET_URI_LENGTH)
    return `is longer than ${MAX_TARGET_URI_LENGTH} characters`;
  const colon = uri.indexOf(':');
  const scheme = colon > 0 ? uri.slice(0, colon).toLowerCase() : '';
  const body = uri.slice(colon + 1);
  if (scheme === 'sip' || scheme === 'sips') return checkSip(body);
  if (scheme === 'tel') return checkTel(body);
  return 'is not a sip:, sips: or tel: URI';
}

/** `[ userinfo ] hostport uri-parameters [ headers ]` */
function checkSip(body: string): string | undefined {
  let rest = body;
  const at = body.indexOf('@');
  if (at >= 0) {
    const userInfo = body.slice(0, at);
    const colon = userInfo.indexOf(':');
    const user = colon >= 0 ? userInfo.slice(0, colon) : userInfo;
    if (user.length === 0) return 'has an empty user part before "@"';
    if (!isEscapedRun(user, USER_CHARS))
      return `has a user part "${user}" with a character that must be percent-encoded there`;
    if (colon >= 0 && !isEscapedRun(userInfo.slice(colon + 1), PASSWORD_CHARS, 0))
      return 'has a malformed password after the user part';
    rest = body.slice(at + 1);
  }

  let i: number;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) return 'has an IPv6 reference without its closing "]"';
    if (!isIpv6Address(rest.slice(1, close)))
      return `has a host "${rest.slice(0, close + 1)}" that is not an IPv6 address`;
    i = close + 1;
  } else {
    i = 0;
    while (i < rest.length && !':;?'.includes(rest[i])) i++;
    const host = rest.slice(0, i);
    if (host.length === 0) return 'has no host';
    if (!isIpv4Address(host) && !isHostname(host))
      return `has a host "${host}" that is not a host name or IP address`;
  }
  if (rest[i] === ':') {
    const start = ++i;
    while (i < rest.length && rest[i] !== ';' && rest[i] !== '?') i++;
    const port = rest.slice(start, i);
    if (!isPort(port)) return `has a port "${port}" that is not a number from 0 to 65535`;
  }
  if (rest[i] === ';') {
    const start = ++i;
    while (i < rest.length && rest[i] !== '?') i++;
    for (const param of rest.slice(start, i).split(';')) {
      const eq = param.indexOf('=');
      const name = eq >= 0 ? param.slice(0, eq) : param;
      const value = eq >= 0 ? param.slice(eq + 1) : undefined;
      if (
        !isEscapedRun(name, PARAM_CHARS) ||
        (value !== undefined && !isEscapedRun(value, PARAM_CHARS))
      )
        return `has a malformed parameter ";${param}"`;
    }
  }
  if (rest[i] === '?') {
    for (const header of rest.slice(i + 1).split('&')) {
      const eq = header.indexOf('=');
      if (
        eq < 0 ||
        !isEscapedRun(header.slice(0, eq), HEADER_CHARS) ||
        !isEscapedRun(header.slice(eq + 1), HEADER_CHARS, 0)
      )
        return `has a malformed header "${header}" (name=value)`;
    }
  } else if (i < rest.length) return `has unexpected text "${rest.slice(i)}" after the host`;
  return undefined;
}

/**
 * RFC 3966 `telephone-subscriber`: a global number (`+14155550199`, visual separators allowed)
 * that can be a number somewhere, or a local number with its `phone-context`.
 */
function checkTel(body: string): string | undefined {
  const [number, ...params] = body.split(';');
  const names = new Set<string>();
  for (const param of params) {
    const eq = param.indexOf('=');
    const name = (eq >= 0 ? param.slice(0, eq) : param).toLowerCase();
    const value = eq >= 0 ? param.slice(eq + 1) : undefined;
    if (
      !isEscapedRun(name, TEL_PARAM_NAME_CHARS) ||
      (value !== undefined && !isEscapedRun(value, PARAM_CHARS)) ||
      (name === 'phone-context' && !isPhoneContext(value ?? '')) ||
      (name === 'ext' && digitsOf(value ?? '', VISUAL_SEPARATORS) === undefined)
    )
      return `has a malformed parameter ";${param}"`;
    names.add(name);
  }
  if (number.startsWith('+')) {
    const digits = digitsOf(number.slice(1), VISUAL_SEPARATORS);
    if (digits === undefined || !isPossibleGlobalNumber(digits))
      return `has "${number}", which is not a phone number`;
    return undefined;
  }
  if (!isLocalNumber(number)) return `has "${number}", which is not a phone number`;
  if (!names.has('phone-context'))
    return `has a local number "${number}" without the phone-context parameter RFC 3966 requires`;
  return undefined;
}

/** The digits of a run of digits and `separators`, or undefined if it holds anything else. */
function digitsOf(text: string, separators: ReadonlySet<string>): string | undefined {
  let digits = '';
  for (const ch of text) {
    if (isDigit(ch)) digits += ch;
    else if (!separators.has(ch)) return undefined;
  }
  return digits.length > 0 ? digits : undefined;
}

/** `local-number-digits = *phonedigit-hex (HEXDIG / "*" / "#") *phonedigit-hex` */
function isLocalNumber(text: string): boolean {
  let significant = 0;
  for (const ch of text) {
    if (isHexDigit(ch) || ch === '*' || ch === '#') significant++;
    else if (!VISUAL_SEPARATORS.has(ch)) return false;
  }
  return significant > 0;
}

/** `descriptor = domainname / global-number-digits` */
function isPhoneContext(value: string): boolean {
  if (value.startsWith('+')) return digitsOf(value.slice(1), VISUAL_SEPARATORS) !== undefined;
  return isHostname(value);
}

function isPort(text: string): boolean {
  return text.length > 0 && text.length <= 5 && [...text].every(isDigit) && Number(text) <= 65535;
}

/** `IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT`, each at most 255. */
function isIpv4Address(text: string): boolean {
  const parts = text.split('.');
  return (
    parts.length === 4 &&
    parts.every((p) => p.length >= 1 && p.length <= 3 && [...p].every(isDigit) && Number(p) <= 255)
  );
}

/** `hostname = *( domainlabel "." ) toplabel [ "." ]`; a top label starts with a letter. */
function isHostname(text: string): boolean {
  if (text.length > 253) return false;
  const labels = text.endsWith('.') ? text.slice(0, -1).split('.') : text.split('.');
  return (
    labels.every(
      (label) =>
        label.length >= 1 &&
        label.length <= 63 &&
        isAlphanumeric(label[0]) &&
        isAlphanumeric(label[label.length - 1]) &&
        [...label].every((ch) => isAlphanumeric(ch) || ch === '-'),
    ) && isAlpha(labels[labels.length - 1][0])
  );
}

/** RFC 3261 `IPv6address = hexpart [ ":" IPv4address ]`, with `::` at most once. */
function isIpv6Address(text: string): boolean {
  let groups = 0;
  let hex = text;
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.slice(lastColon + 1).includes('.')) {
    if (!isIpv4Address(text.slice(lastColon + 1))) return false;
    groups += 2;
    hex = text.slice(0, lastColon + 1);
    // "::1.2.3.4" or "x:1.2.3.4": keep a "::" whole, drop a single trailing ":".
    if (!hex.endsWith('::')) hex = hex.slice(0, -1);
  }
  const halves = hex.split('::');
  if (halves.length > 2) return false;
  for (const half of halves) {
    if (half.length === 0) continue;
    for (const group of half.split(':')) {
      if (group.length < 1 || group.length > 4 || ![...group].every(isHexDigit)) return false;
      groups++;
    }
  }
  return halves.length === 2 ? groups <= 7 : groups === 8;
}
