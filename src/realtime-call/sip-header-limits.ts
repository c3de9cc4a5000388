/**
 * Bounds on the SIP headers of a ringing call. They come from the caller's INVITE through the
 * carrier and OpenAI: untrusted, and sometimes odd. A call is never refused for them (OpenAI
 * would retry a refusal for days while the caller hears ringing): what is past a bound is cut,
 * and the cut is recorded.
 */
export const SIP_HEADER_LIMITS = {
  /** Headers kept per call; the rest are dropped. */
  maxHeaders: 256,
  /** Longer names are dropped (a shortened name would be another header). */
  maxNameLength: 128,
  /** Longer values are cut to this many characters. */
  maxValueLength: 8192,
} as const;

export type SipHeaderLimits = { [K in keyof typeof SIP_HEADER_LIMITS]: number };

export interface SipHeader {
  name: string;
  value: string;
}

/** Why an entry of `sip_headers` was not kept. */
export type SipHeaderDropReason =
  /** null, a number, a string, an array: not a `{ name, value }` object. */
  | 'not_an_object'
  /** No name, or an empty or blank one. */
  | 'name_missing'
  /** Longer than `maxNameLength`. */
  | 'name_too_long'
  /** Not an RFC 3261 token (letters, digits and `-.!%*_+`'~`), or not text at all. */
  | 'name_invalid'
  /** No value, or null. */
  | 'value_missing'
  /** An object or an array. */
  | 'value_not_text'
  /** Past the first `maxHeaders` kept headers. */
  | 'over_limit';

/** What was cut from a call's `sip_headers`; absent when they arrived within every bound. */
export interface SipHeadersCut {
  /** Entries in the list as it arrived (0 when it was not a list). */
  received: number;
  kept: number;
  dropped: number;
  dropped_because: Partial<Record<SipHeaderDropReason, number>>;
  /** Kept headers whose value was cut to `maxValueLength`: their name and original length. */
  truncated: { name: string; length: number }[];
  /** Kept headers whose name or value was a number or boolean, now text. */
  converted: number;
  /** Set when `sip_headers` itself was missing or not a list. */
  problem?: string;
}

// RFC 3261 section 25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

/**
 * Turns whatever arrived as `sip_headers` into a list of `{ name, value }` strings within the
 * limits, in the order received, and says what was cut. Never throws; linear in the input.
 */
export function boundSipHeaders(
  raw: unknown,
  limits: SipHeaderLimits = SIP_HEADER_LIMITS,
): { headers: SipHeader[]; cut?: SipHeadersCut } {
  const cut: SipHeadersCut = {
    received: 0,
    kept: 0,
    dropped: 0,
    dropped_because: {},
    truncated: [],
    converted: 0,
  };
  if (!Array.isArray(raw)) {
    cut.problem = `sip_headers is ${describe(raw)}, not a list of { name, value } objects`;
    return { headers: [], cut };
  }
  cut.received = raw.length;
  const headers: SipHeader[] = [];
  const drop = (reason: SipHeaderDropReason, count = 1) => {
    cut.dropped += count;
    cut.dropped_because[reason] = (cut.dropped_because[reason] ?? 0) + count;
  };
  for (let i = 0; i < raw.length; i++) {
    if (headers.length === limits.maxHeaders) {
      drop('over_limit', raw.length - i);
      break;
    }
    const entry: unknown = raw[i];
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      drop('not_an_object');
      continue;
    }
    const { name: rawName, value: rawValue } = entry as { name?: unknown; value?: unknown };
    const name = readName(rawName, limits);
    if (!name.ok) {
      drop(name.reason);
      continue;
    }
    const value = readValue(rawValue);
    if (!value.ok) {
      drop(value.reason);
      continue;
    }
    if (name.converted || value.converted) cut.converted++;
    let text = value.text;
    if (text.length > limits.maxValueLength) {
      cut.truncated.push({ name: name.text, length: text.length });
      text = cutAt(text, limits.maxValueLength);
    }
    headers.push({ name: name.text, value: text });
  }
  cut.kept = headers.length;
  const changed = cut.dropped > 0 || cut.truncated.length > 0 || cut.converted > 0;
  return changed ? { headers, cut } : { headers };
}

type Read =
  { ok: true; text: string; converted: boolean } | { ok: false; reason: SipHeaderDropReason };

function readName(raw: unknown, limits: SipHeaderLimits): Read {
  if (raw === undefined || raw === null) return { ok: false, reason: 'name_missing' };
  const converted = typeof raw === 'number' && Number.isFinite(raw);
  if (typeof raw !== 'string' && !converted) return { ok: false, reason: 'name_invalid' };
  // Whitespace around a name is allowed before the colon in SIP; it is not part of the name.
  const text = String(raw).trim();
  if (text.length === 0) return { ok: false, reason: 'name_missing' };
  if (text.length > limits.maxNameLength) return { ok: false, reason: 'name_too_long' };
  if (!TOKEN.test(text)) return { ok: false, reason: 'name_invalid' };
  return { ok: true, text, converted };
}

function readValue(raw: unknown): Read {
  if (typeof raw === 'string') return { ok: true, text: raw, converted: false };
  if (raw === undefined || raw === null) return { ok: false, reason: 'value_missing' };
  if ((typeof raw === 'number' && Number.isFinite(raw)) || typeof raw === 'boolean') {
    return { ok: true, text: String(raw), converted: true };
  }
  return { ok: false, reason: 'value_not_text' };
}

/** The first `length` UTF-16 units, one fewer rather than half of a surrogate pair. */
function cutAt(text: string, length: number): string {
  const last = text.charCodeAt(length - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? length - 1 : length);
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}
