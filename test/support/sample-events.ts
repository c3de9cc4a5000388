import { randomUUID } from 'node:crypto';
import {
  KNOWN_WEBHOOK_EVENT_TYPES,
  KnownWebhookEventType,
} from '../../src/events/webhook-event-types';

const hex = () => randomUUID().replace(/-/g, '');

/** SIP headers the way OpenAI forwards an INVITE: name and value strings, in order. */
export const SAMPLE_SIP_HEADERS = [
  {
    name: 'From',
    value: '"Alice \\"Al\\" Smith" <sip:+14155550123@pbx.example.com;user=phone>;tag=9fxced76sl',
  },
  { name: 'To', value: '<sip:+18005550100@sip.api.openai.com>' },
  { name: 'Call-ID', value: 'a84b4c76e66710@pbx.example.com' },
  { name: 'Diversion', value: '<tel:+14155550000>;reason=unconditional' },
  { name: 'X-Account-Tier', value: 'gold' },
];

/** `data` of a sample: `{ id }`, or a ringing call on one surface or the other. */
export interface SampleData {
  id?: string;
  call_id?: string;
  session_id?: string;
  type?: string;
  sip_headers?: { name: string; value: string }[];
  sip_media_security?: string;
}

/** `data` of a ringing call of each surface's event type. */
const CALL_DATA: Record<string, () => SampleData> = {
  'realtime.call.incoming': () => ({ call_id: `rtc_${hex()}`, sip_headers: SAMPLE_SIP_HEADERS }),
  'live.transport.incoming': () => ({
    type: 'sip',
    session_id: `live_${hex()}`,
    sip_headers: SAMPLE_SIP_HEADERS,
    sip_media_security: 'srtp',
  }),
  'live.call.incoming': () => ({ session_id: `live_${hex()}`, sip_headers: SAMPLE_SIP_HEADERS }),
};

/** A realistic event of each known type, as a plain object. */
export function sampleEvent(
  type: KnownWebhookEventType | string,
  overrides: Record<string, unknown> = {},
) {
  const data: SampleData = CALL_DATA[type]?.() ?? { id: `${type.split('.')[0]}_${hex()}` };
  return {
    id: `evt_${hex()}`,
    object: 'event',
    created_at: Math.floor(Date.now() / 1000),
    type,
    data,
    ...overrides,
  };
}

export const ALL_TYPES = KNOWN_WEBHOOK_EVENT_TYPES;
