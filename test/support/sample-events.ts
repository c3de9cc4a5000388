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

/** A realistic event of each of the fifteen types, as a plain object. */
export function sampleEvent(
  type: KnownWebhookEventType | string,
  overrides: Record<string, unknown> = {},
) {
  const data =
    type === 'realtime.call.incoming'
      ? { call_id: `rtc_${hex()}`, sip_headers: SAMPLE_SIP_HEADERS }
      : { id: `${type.split('.')[0]}_${hex()}` };
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
