import type { CallEventAdjustments } from '../realtime-call/dto/realtime-call-incoming.dto';
import type { Decision } from './rules/rule-set';
import { addressPart, CallFacts } from './sip/call-facts';

/** What the routing log line adds about the surfaces, when there is anything to say. */
export interface SurfaceNote {
  surface: string;
  /** The call was announced on both surfaces, or answered on one that was not its first. */
  worthSaying: boolean;
  waitedMs?: number;
}

/**
 * The one routing log line of a call: `call rtc_1 from +14155550123 to +18005550100:
 * vip-support -> accept`, with the surface when the call had a twin or went to Live
 * (`-> accept on live, after 12 ms waiting for it`), and what was cut from an odd event
 * (`(SIP headers: 44 dropped, 1 truncated)`). Numbers are masked when configured.
 */
export class CallRouteLine {
  constructor(private readonly redact: boolean) {}

  describe(
    callId: string,
    facts: CallFacts,
    decision: Decision,
    adjustments: CallEventAdjustments | undefined,
    dryRun: boolean,
    surface: SurfaceNote,
  ): string {
    const from =
      addressPart(facts, 'caller', 'number')[0] ?? addressPart(facts, 'caller', 'uri')[0];
    const to = addressPart(facts, 'called', 'number')[0];
    const route = decision.rule ?? `(${decision.route})`;
    const where = surface.worthSaying ? ` on ${surface.surface}` : '';
    const waited =
      surface.waitedMs === undefined ? '' : `, after ${surface.waitedMs} ms waiting for its twin`;
    const dry = dryRun ? ' (dry run: not sent)' : '';
    return `call ${callId} from ${this.shown(from)} to ${this.shown(to)}: ${route} -> ${decision.action.type}${where}${waited}${dry}${describeAdjustments(adjustments)}`;
  }

  /** A number for a log line, masked when configured: it is personal data. */
  shown(value: string | undefined): string {
    if (value === undefined) return '(unknown)';
    return this.redact ? `${'*'.repeat(Math.max(0, value.length - 4))}${value.slice(-4)}` : value;
  }
}

function describeAdjustments(adjustments: CallEventAdjustments | undefined): string {
  if (!adjustments) return '';
  const notes: string[] = [];
  const cut = adjustments.sip_headers;
  if (cut?.problem) notes.push(cut.problem);
  if (cut?.dropped) notes.push(`${cut.dropped} SIP header(s) dropped`);
  if (cut?.truncated.length) notes.push(`${cut.truncated.length} SIP header value(s) truncated`);
  if (cut?.converted) notes.push(`${cut.converted} SIP header(s) converted to text`);
  const replaced = adjustments.replaced ?? [];
  const envelope = replaced.filter((field) => !field.path.startsWith('data.'));
  const dropped = replaced.filter((field) => field.path.startsWith('data.'));
  if (envelope.length) notes.push(`envelope ${envelope.map((f) => f.path).join(', ')} replaced`);
  if (dropped.length) notes.push(`${dropped.map((f) => f.path).join(', ')} dropped`);
  return notes.length > 0 ? ` (${notes.join('; ')})` : '';
}
