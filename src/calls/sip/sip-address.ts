import {
  emptyParams,
  isWhitespace,
  Params,
  readHeaderParams,
  readQuotedString,
} from './sip-grammar';
import { parseUri } from './sip-uri';

/**
 * A name-addr (`"Alice" <sip:+14155550123@pbx.example.com;user=phone>;tag=9`) or a bare
 * addr-spec (`sip:alice@example.com;tag=9`, `tel:+1-415-555-0123`), taken apart.
 */
export interface SipAddress {
  displayName?: string;
  /** The URI without its angle brackets. */
  uri: string;
  /** `sip`, `sips`, `tel`, ... (lower case). */
  scheme?: string;
  /**
   * User part of a sip(s) URI, or the number of a tel URI, percent-decoded. A telephone number
   * with parameters in the user part (`+12125550199;verstat=...`) gives the number alone.
   */
  user?: string;
  /** The telephone number's parameters: in a sip(s) user part, or a tel URI's own. */
  userParams: Params;
  host?: string;
  port?: number;
  /** URI parameters (`user=phone`) then header parameters (`tag=9`), names in lower case. */
  params: Params;
  /** The URI's `?name=value` headers. */
  uriHeaders: Params;
}

/**
 * Parses one address by the grammar of RFC 3261 section 20.10 (`( name-addr / addr-spec )
 * *( SEMI generic-param )`); never throws, returns undefined when there is no URI to find.
 * Work is linear in the length of the value.
 */
export function parseSipAddress(input: string): SipAddress | undefined {
  let rest = input.trim();
  if (rest.length === 0) return undefined;
  let displayName: string | undefined;
  if (rest.startsWith('"')) {
    const quoted = readQuotedString(rest, 0);
    if (!quoted) return undefined;
    displayName = quoted.value;
    rest = rest.slice(quoted.end).trim();
  }
  let uriText: string;
  let afterUri: string;
  const open = indexOutsideQuotes(rest, '<');
  if (open >= 0) {
    const close = rest.indexOf('>', open);
    if (close < 0) return undefined;
    // `display-name = *(token LWS) / quoted-string`: tokens are separated by any run of LWS.
    const tokens = collapseWhitespace(rest.slice(0, open));
    if (displayName === undefined && tokens.length > 0) displayName = tokens;
    uriText = rest.slice(open + 1, close).trim();
    afterUri = rest.slice(close + 1);
  } else {
    if (displayName !== undefined) return undefined; // a display name needs <angle brackets>
    [uriText, afterUri] = splitAddrSpec(rest);
  }
  if (uriText.length === 0) return undefined;

  const uri = parseUri(uriText);
  return {
    ...(displayName !== undefined ? { displayName } : {}),
    uri: uriText,
    ...(uri.scheme !== undefined ? { scheme: uri.scheme } : {}),
    ...(uri.user !== undefined ? { user: uri.user } : {}),
    userParams: uri.userParams,
    ...(uri.host !== undefined ? { host: uri.host } : {}),
    ...(uri.port !== undefined ? { port: uri.port } : {}),
    params: Object.assign(emptyParams(), readHeaderParams(afterUri), uri.params),
    uriHeaders: uri.headers,
  };
}

/**
 * An addr-spec without angle brackets ends where its header parameters begin (RFC 3261 section
 * 20.10: there, every ";" parameter is the header's), with linear white space allowed before
 * the ";": `sip:+14155550100@gw.example.com:5060 ;tag=1`. The grammar asks for angle brackets
 * around a URI with ";" in its user part; a carrier that forgets them is read as it means: a ";"
 * before the "@" belongs to the user part (header parameters cannot hold an unquoted "@").
 */
function splitAddrSpec(text: string): [string, string] {
  const at = text.indexOf('@');
  const firstSemicolon = text.indexOf(';');
  let from = 0;
  if (at >= 0 && firstSemicolon >= 0 && firstSemicolon < at && plainUserPart(text, at)) from = at;
  let end = from;
  while (end < text.length && text[end] !== ';' && !isWhitespace(text[end])) end++;
  return [text.slice(0, end), text.slice(end)];
}

function plainUserPart(text: string, at: number): boolean {
  for (let i = 0; i < at; i++) if ('"<>, \t'.includes(text[i])) return false;
  return true;
}

function indexOutsideQuotes(text: string, wanted: string): number {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted && ch === '\\') i++;
    else if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === wanted) return i;
  }
  return -1;
}

function collapseWhitespace(text: string): string {
  let out = '';
  let pendingSpace = false;
  for (const ch of text) {
    if (isWhitespace(ch)) pendingSpace = out.length > 0;
    else {
      if (pendingSpace) out += ' ';
      out += ch;
      pendingSpace = false;
    }
  }
  return out;
}
