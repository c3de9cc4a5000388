import type { EventIntake, ReplacedField } from '../events/event-intake';
import type { CallEventAdjustments } from './dto/realtime-call-incoming.dto';
import { boundSipHeaders } from './sip-header-limits';

/** The longest `sip_media_security` (`rtp`, `srtp`, or a newer word) or `type` kept as text. */
export const MAX_CALL_WORD_LENGTH = 64;
const WORD = /^[\x21-\x7e]{1,64}$/;

/** How one kind of ringing-call event names its call and which short words it may carry. */
export interface RingingCallShape {
  /** The field OpenAI's call control addresses the call by: `call_id` or `session_id`. */
  idField: string;
  /** Optional words of `data` (`sip_media_security`, a transport `type`): kept only when usable. */
  words: readonly string[];
}

/**
 * The intake of every event that announces a ringing SIP call, whatever the surface
 * (`realtime.call.incoming`, `live.transport.incoming`, `live.call.incoming`). A ringing call
 * must be answered, so its event is refused (400) only without a usable id. The caller's SIP
 * headers are bounded, not validated: what is past a limit is cut and noted in
 * `data.adjustments`, and the call is routed by the rest. An optional word that is not short
 * visible text is dropped and noted the same way, rather than refusing the call for it.
 */
export function ringingCallIntake(shape: RingingCallShape): EventIntake {
  return {
    essential: ['type', 'data', `data.${shape.idField}`],

    bound(plain) {
      const data = plain.data;
      if (typeof data !== 'object' || data === null || Array.isArray(data)) return;
      const fields = data as Record<string, unknown>;
      const { headers, cut } = boundSipHeaders(fields.sip_headers);
      fields.sip_headers = headers;
      // The note is ours alone: nothing that arrived under this name is kept.
      delete fields.adjustments;
      const adjustments: CallEventAdjustments = {};
      if (cut) adjustments.sip_headers = cut;
      const dropped = shape.words.flatMap((word) => dropUnusableWord(fields, word));
      if (dropped.length > 0) adjustments.replaced = dropped;
      if (Object.keys(adjustments).length > 0) fields.adjustments = adjustments;
    },

    noteReplaced(event, replaced: ReplacedField[]) {
      const data = (event as { data: { adjustments?: CallEventAdjustments } }).data;
      const earlier = data.adjustments?.replaced ?? [];
      data.adjustments = { ...data.adjustments, replaced: [...earlier, ...replaced] };
    },
  };
}

/** Removes `data[word]` when it is present but not short visible text; says why. */
function dropUnusableWord(fields: Record<string, unknown>, word: string): ReplacedField[] {
  const value = fields[word];
  if (value === undefined || (typeof value === 'string' && WORD.test(value))) return [];
  delete fields[word];
  const problem =
    typeof value === 'string'
      ? `${word} must be 1 to ${MAX_CALL_WORD_LENGTH} visible ASCII characters`
      : `${word} must be text, got ${value === null ? 'null' : typeof value}`;
  return [{ path: `data.${word}`, problems: [problem] }];
}

export const REALTIME_CALL_INTAKES = {
  'realtime.call.incoming': ringingCallIntake({
    idField: 'call_id',
    words: ['sip_media_security'],
  }),
} as const;
