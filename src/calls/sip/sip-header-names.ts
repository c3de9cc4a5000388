/** RFC 3261 section 7.3.3 and later RFCs: single-letter compact forms of header names. */
const COMPACT_FORMS: Readonly<Record<string, string>> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};

/** Lower case, trimmed, compact form expanded: `f` and `FROM` are both `from`. */
export function canonicalHeaderName(name: string): string {
  const lower = name.trim().toLowerCase();
  return COMPACT_FORMS[lower] ?? lower;
}

/**
 * Headers whose value is a comma-separated list of entries (RFC 3261 section 7.3.1); each
 * entry counts as a value of its own, as if the header had been repeated.
 */
export const LIST_HEADERS: ReadonlySet<string> = new Set([
  'diversion',
  'history-info',
  'p-asserted-identity',
  'p-preferred-identity',
  'contact',
  'via',
  'route',
  'record-route',
]);
