import { ringingCallIntake } from '../realtime-call/call-event-intake';

/**
 * Live calls are taken like Realtime ones (the same bounds on SIP headers, the same tolerance of
 * odd data): refused only without a usable `data.session_id`.
 */
export const LIVE_CALL_INTAKES = {
  'live.transport.incoming': ringingCallIntake({
    idField: 'session_id',
    words: ['type', 'sip_media_security'],
  }),
  'live.call.incoming': ringingCallIntake({
    idField: 'session_id',
    words: ['sip_media_security'],
  }),
} as const;
