import type { EventIntake, ReplacedField } from '../events/event-intake';
import type { RealtimeCallIncomingEvent } from './dto/realtime-call-incoming.dto';
import { boundSipHeaders } from './sip-header-limits';

/**
 * A ringing call must be answered, so its event is refused (400) only without a usable
 * `data.call_id`. The caller's SIP headers are bounded, not validated: what is past a limit is
 * cut and noted in `data.adjustments`, and the call is routed by the rest.
 */
export const CALL_EVENT_INTAKE: EventIntake = {
  essential: ['type', 'data', 'data.call_id'],

  bound(plain) {
    const data = plain.data;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return;
    const fields = data as Record<string, unknown>;
    const { headers, cut } = boundSipHeaders(fields.sip_headers);
    fields.sip_headers = headers;
    // The note is ours alone: nothing that arrived under this name is kept.
    delete fields.adjustments;
    if (cut) fields.adjustments = { sip_headers: cut };
  },

  noteReplaced(event, replaced: ReplacedField[]) {
    const data = (event as RealtimeCallIncomingEvent).data;
    data.adjustments = { ...data.adjustments, replaced };
  },
};

export const REALTIME_CALL_INTAKES = {
  'realtime.call.incoming': CALL_EVENT_INTAKE,
} as const;
