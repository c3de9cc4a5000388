import { randomUUID } from 'node:crypto';
import { sampleEvent } from './sample-events';
import { Delivery, signDelivery } from './signing';

const hex = () => randomUUID().replace(/-/g, '');

/** One ringing phone as OpenAI announces it: the same INVITE headers, an id per surface. */
export interface PhysicalCall {
  realtimeId: string;
  liveId: string;
  sipHeaders: { name: string; value: string }[];
}

/**
 * A physical call with its own SIP Call-ID. `extraHeaders` steer the rules; `sharedId` gives
 * both announcements the same id, as early Live events did (`session_id` = the `rtc_` id), and
 * then no Call-ID at all, so that the id is the only thing that pairs them.
 */
export function physicalCall(
  options: { extraHeaders?: { name: string; value: string }[]; sharedId?: boolean } = {},
): PhysicalCall {
  const realtimeId = `rtc_${hex()}`;
  const sipHeaders = [
    { name: 'From', value: `"Alice" <sip:+14155550123@pbx.example.com>;tag=${hex().slice(0, 8)}` },
    { name: 'To', value: '<sip:+18005550100@sip.api.openai.com>' },
    ...(options.sharedId ? [] : [{ name: 'Call-ID', value: `${hex()}@pbx.example.com` }]),
    ...(options.extraHeaders ?? []),
  ];
  return {
    realtimeId,
    liveId: options.sharedId ? realtimeId : `live_${hex()}`,
    sipHeaders,
  };
}

/** The Realtime announcement of the call, signed (a fresh webhook-id each time). */
export function realtimeAnnouncement(call: PhysicalCall, data: object = {}): Delivery {
  const body = sampleEvent('realtime.call.incoming', {
    data: { call_id: call.realtimeId, sip_headers: call.sipHeaders, ...data },
  });
  return signDelivery(JSON.stringify(body));
}

/** The Live announcement of the call (`live.transport.incoming`, or the deprecated name). */
export function liveAnnouncement(
  call: PhysicalCall,
  data: object = {},
  type: 'live.transport.incoming' | 'live.call.incoming' = 'live.transport.incoming',
): Delivery {
  const body = sampleEvent(type, {
    data: {
      ...(type === 'live.transport.incoming' ? { type: 'sip' } : {}),
      session_id: call.liveId,
      sip_headers: call.sipHeaders,
      ...data,
    },
  });
  return signDelivery(JSON.stringify(body));
}
