/**
 * Which template values come from the caller's side of a call, and how such text is inserted.
 *
 * OpenAI documents SIP headers as untrusted: whoever places the call, or any hop before OpenAI,
 * chooses them. So every header is caller data, and so is every field read from one: numbers,
 * users, hosts and parameters of From, To, P-Asserted-Identity, Diversion, Contact... (PAI is
 * no exception: it is only trustworthy inside a trust domain (RFC 3325) whose edge strips what
 * an untrusted peer sent, and nothing tells Switchboard that every hop before OpenAI did).
 * Regex captures are cut from those values and inherit their status. Trusted are only the
 * values the caller cannot choose: `call_id` (made by OpenAI), `call.surfaces` and
 * `sip_media_security` (OpenAI's announcements, not headers; the latter bounded to a short word
 * at intake) and `caller.withheld` (Switchboard's own true/false).
 */
const TRUSTED_PATHS: ReadonlySet<string> = new Set([
  'call_id',
  'caller.withheld',
  'call.surfaces',
  'sip_media_security',
]);

export function isCallerData(path: string): boolean {
  return !TRUSTED_PATHS.has(path);
}

/**
 * Caller text that goes into a session (instructions, tool descriptions) unconstrained: quoted,
 * with quotes, backslashes and control characters escaped, and labelled, so the model reads it
 * as data and a value cannot close the quote to speak as the rules author.
 */
export function markCallerText(value: string): string {
  return `[caller-supplied text: ${JSON.stringify(value)}]`;
}

/** Warnings shown one by one; a rule set with thousands of templated rules gets one more line. */
export const MAX_CALLER_DATA_WARNINGS = 20;

/** The first warnings about caller data, and a count of the rest, so a save never floods the log. */
export function summarizeCallerDataWarnings(warnings: string[]): string[] {
  if (warnings.length <= MAX_CALLER_DATA_WARNINGS) return warnings;
  const rest = warnings.length - MAX_CALLER_DATA_WARNINGS;
  return [
    ...warnings.slice(0, MAX_CALLER_DATA_WARNINGS),
    `...and ${rest} more place(s) where caller data flows unconstrained into a session or a transfer target`,
  ];
}
