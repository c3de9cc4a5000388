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
  /** User part of a sip(s) URI, or the number of a tel URI, percent-decoded. */
  user?: string;
  host?: string;
  port?: number;
  /** URI parameters (`user=phone`) then header parameters (`tag=9`), names in lower case. */
  params: Record<string, string>;
}

/** Parses one address; never throws, returns undefined when there is no URI to find. */
export function parseSipAddress(input: string): SipAddress | undefined {
  let rest = input.trim();
  if (rest.length === 0) return undefined;
  let displayName: string | undefined;
  let uri: string;
  let headerParams = '';

  if (rest.startsWith('"')) {
    const quoted = readQuoted(rest);
    if (!quoted) return undefined;
    displayName = quoted.text;
    rest = quoted.rest.trim();
  }
  const open = rest.indexOf('<');
  if (open >= 0) {
    const close = rest.indexOf('>', open);
    if (close < 0) return undefined;
    const before = rest.slice(0, open).trim();
    if (displayName === undefined && before.length > 0) displayName = before;
    uri = rest.slice(open + 1, close).trim();
    headerParams = rest.slice(close + 1);
  } else {
    // addr-spec: parameters after the URI belong to the header (RFC 3261 section 20.10).
    const semicolon = rest.indexOf(';');
    uri = semicolon >= 0 ? rest.slice(0, semicolon) : rest;
    headerParams = semicolon >= 0 ? rest.slice(semicolon) : '';
    if (displayName !== undefined) return undefined;
  }
  if (uri.length === 0) return undefined;

  const address: SipAddress = {
    uri,
    params: {},
    ...(displayName !== undefined ? { displayName } : {}),
  };
  parseUri(uri, address);
  // Null prototype: a parameter named `constructor` or `__proto__` is just a parameter.
  address.params = Object.assign(
    Object.create(null) as Record<string, string>,
    parseParams(headerParams),
    address.params,
  );
  return address;
}

function readQuoted(text: string): { text: string; rest: string } | undefined {
  let value = '';
  for (let i = 1; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\' && i + 1 < text.length) value += text[++i];
    else if (ch === '"') return { text: value, rest: text.slice(i + 1) };
    else value += ch;
  }
  return undefined;
}

function parseUri(uri: string, into: SipAddress): void {
  const colon = uri.indexOf(':');
  if (colon <= 0) return;
  const scheme = uri.slice(0, colon).toLowerCase();
  into.scheme = scheme;
  const body = uri.slice(colon + 1);
  const [main, ...paramParts] = body.split(';');
  const params = parseParams(paramParts.length > 0 ? `;${paramParts.join(';')}` : '');
  if (scheme === 'tel') {
    into.user = decode(main);
    into.params = params;
    return;
  }
  const withoutHeaders = main.split('?')[0];
  const at = withoutHeaders.lastIndexOf('@');
  const hostPort = at >= 0 ? withoutHeaders.slice(at + 1) : withoutHeaders;
  if (at >= 0) {
    const userInfo = withoutHeaders.slice(0, at);
    into.user = decode(userInfo.split(':')[0]);
  }
  const portMatch = /^(.*?)(?::(\d{1,5}))?$/.exec(hostPort);
  const host = (portMatch?.[1] ?? hostPort).toLowerCase();
  if (host) into.host = host;
  if (portMatch?.[2]) into.port = Number(portMatch[2]);
  into.params = params;
}

function parseParams(text: string): Record<string, string> {
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const part of text.split(';')) {
    const trimmed = part.trim();
    if (!trimmed) continue;
    const eq = trimmed.indexOf('=');
    const name = (eq >= 0 ? trimmed.slice(0, eq) : trimmed).trim().toLowerCase();
    const value =
      eq >= 0
        ? trimmed
            .slice(eq + 1)
            .trim()
            .replace(/^"(.*)"$/, '$1')
        : '';
    if (name) params[name] = value;
  }
  return params;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
