import type {
  LiveCallIncomingEvent,
  LiveTransportIncomingEvent,
} from '../../live-call/dto/live-call-events.dto';
import type {
  CallEventAdjustments,
  RealtimeCallIncomingEvent,
  SipHeaderDto,
} from '../../realtime-call/dto/realtime-call-incoming.dto';
import type { SurfaceName } from './surface-name';

/** The events that announce a ringing SIP call, one per surface (Live has a deprecated twin). */
export type CallAnnouncementEvent =
  RealtimeCallIncomingEvent | LiveTransportIncomingEvent | LiveCallIncomingEvent;

export const CALL_ANNOUNCEMENT_TYPES = [
  'realtime.call.incoming',
  'live.transport.incoming',
  'live.call.incoming',
] as const;

/** What a ringing-call event says, whatever its surface: the routing code reads only this. */
export interface CallOffer {
  surface: SurfaceName;
  /** The id call control addresses the call by on this surface. */
  id: string;
  sipHeaders: SipHeaderDto[];
  mediaSecurity?: string;
  adjustments?: CallEventAdjustments;
  /** For Live, the transport the event names; only `sip` (or none) is a phone call. */
  transport?: string;
}

/** The one place that reads each surface's event shape. */
export function offerOf(event: CallAnnouncementEvent): CallOffer {
  const { sip_headers: sipHeaders, sip_media_security: mediaSecurity, adjustments } = event.data;
  const common = { sipHeaders, mediaSecurity, adjustments };
  switch (event.type) {
    case 'realtime.call.incoming':
      return { surface: 'realtime', id: event.data.call_id, ...common };
    case 'live.transport.incoming':
      return { surface: 'live', id: event.data.session_id, transport: event.data.type, ...common };
    case 'live.call.incoming':
      return { surface: 'live', id: event.data.session_id, ...common };
    default: {
      const unreachable: never = event;
      throw new Error(`not a call announcement: ${JSON.stringify(unreachable)}`);
    }
  }
}
