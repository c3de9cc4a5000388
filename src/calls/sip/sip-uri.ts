import {
  emptyParams,
  isDigit,
  Params,
  percentDecode,
  readUriPairs,
  VISUAL_SEPARATORS,
} from './sip-grammar';

/**
 * A `sip:`, `sips:` or `tel:` URI taken apart by the grammar of RFC 3261 section 19.1 and
 * RFC 3966. Other schemes (`http:`, `urn:`) keep only their scheme.
 */
export interface SipUri {
  /** Lower case; absent when the text has no `scheme:`. */
  scheme?: string;
  /**
   * The user part, percent-decoded. When it is a telephone number with parameters
   * (`+12125550199;verstat=TN-Validation-Passed`), the number alone; for `tel:`, the number.
   */
  user?: string;
  /** Parameters of that telephone number (`verstat`, `npdi`, `rn`, `ext`, `phone-context`). */
  userParams: Params;
  /** Lower case; an IPv6 reference keeps its brackets (`[2001:db8::1]`), as in the grammar. */
  host?: string;
  port?: number;
  /** URI parameters (`;user=phone`, `;transport=tcp`); for `tel:`, its parameters. */
  params: Params;
  /** URI headers (`?Replaces=...&Priority=urgent`). */
  headers: Params;
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+\-.]*$/;
const MAX_PORT = 65535;

/**
 * Takes a URI apart; never throws. Liberal in what it reads (a carrier's spaces in a number,
 * an unknown parameter); the URIs Switchboard sends are checked strictly by `checkTargetUri`.
 */
export function parseUri(text: string): SipUri {
  const uri: SipUri = { userParams: emptyParams(), params: emptyParams(), headers: emptyParams() };
  const colon = text.indexOf(':');
  if (colon <= 0 || !SCHEME.test(text.slice(0, colon))) return uri;
  uri.scheme = text.slice(0, colon).toLowerCase();
  const body = text.slice(colon + 1);
  if (uri.scheme === 'tel') readTel(body, uri);
  else if (uri.scheme === 'sip' || uri.scheme === 'sips') readSip(body, uri);
  return uri;
}

/** RFC 3966: `telephone-subscriber *( ";" par )`; the parameters belong to the number. */
function readTel(body: string, uri: SipUri): void {
  const semicolon = body.indexOf(';');
  const number = percentDecode(semicolon >= 0 ? body.slice(0, semicolon) : body).trim();
  if (number) uri.user = number;
  if (semicolon >= 0) {
    readUriPairs(body.slice(semicolon + 1), ';', uri.params);
    Object.assign(uri.userParams, uri.params);
  }
}

/** `[ userinfo "@" ] hostport uri-parameters [ "?" headers ]` */
function readSip(body: string, uri: SipUri): void {
  // No unescaped "@" may appear after the userinfo (not in host, parameters or headers), so the
  // first "@" ends it, however many ";", "?" or "/" the user part holds before it.
  const at = body.indexOf('@');
  const userInfo = at >= 0 ? body.slice(0, at) : undefined;
  const rest = at >= 0 ? body.slice(at + 1) : body;

  let i = 0;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) return; // an IPv6 reference that never closes: no host to trust
    uri.host = rest.slice(0, close + 1).toLowerCase();
    i = close + 1;
  } else {
    while (i < rest.length && !':;?'.includes(rest[i])) i++;
    const host = rest.slice(0, i).trim().toLowerCase();
    if (host) uri.host = host;
  }
  if (rest[i] === ':') {
    const start = ++i;
    while (i < rest.length && rest[i] !== ';' && rest[i] !== '?') i++;
    uri.port = readPort(rest.slice(start, i).trim());
  }
  if (rest[i] === ';') {
    const start = ++i;
    while (i < rest.length && rest[i] !== '?') i++;
    readUriPairs(rest.slice(start, i), ';', uri.params);
  }
  if (rest[i] === '?') readUriPairs(rest.slice(i + 1), '&', uri.headers);

  if (userInfo !== undefined) readUserPart(userInfo, uri);
}

function readPort(text: string): number | undefined {
  if (text.length === 0 || text.length > 5 || ![...text].every(isDigit)) return undefined;
  const port = Number(text);
  return port <= MAX_PORT ? port : undefined;
}

/**
 * `( user / telephone-subscriber ) [ ":" password ]`. The user part of a SIP URI may hold
 * ";", "?", "/" and more (RFC 3261 section 19.1.1); it is read as a telephone-subscriber, a
 * number with parameters, when `user=phone` says so or when what precedes its first ";" is a
 * phone number. Otherwise a ";" is just a character of the user name.
 */
function readUserPart(userInfo: string, uri: SipUri): void {
  const colon = userInfo.indexOf(':');
  const user = colon >= 0 ? userInfo.slice(0, colon) : userInfo;
  const semicolon = user.indexOf(';');
  if (semicolon >= 0) {
    const number = percentDecode(user.slice(0, semicolon)).trim();
    if (uri.params.user?.toLowerCase() === 'phone' || isTelephoneNumber(number)) {
      if (number) uri.user = number;
      readUriPairs(user.slice(semicolon + 1), ';', uri.userParams);
      return;
    }
  }
  const decoded = percentDecode(user).trim();
  if (decoded) uri.user = decoded;
}

/**
 * RFC 3966 `global-number-digits` or `local-number-digits`: an optional "+", then digits,
 * "*", "#" and visual separators, with at least one digit. (Spaces too: carriers send them.)
 */
export function isTelephoneNumber(text: string): boolean {
  let digits = 0;
  for (let i = text[0] === '+' ? 1 : 0; i < text.length; i++) {
    const ch = text[i];
    if (isDigit(ch)) digits++;
    else if (!VISUAL_SEPARATORS.has(ch) && ch !== '*' && ch !== '#' && ch !== ' ') return false;
  }
  return digits > 0;
}
