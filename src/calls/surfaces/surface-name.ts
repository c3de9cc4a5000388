/**
 * The two surfaces on which OpenAI offers a ringing SIP call: Realtime (`realtime.call.incoming`,
 * control under `/v1/realtime/calls/{call_id}`) and Live (`live.transport.incoming`, control under
 * `/v1/live/sessions/{session_id}`). The first successful accept on either picks the surface.
 */
export const SURFACE_NAMES = ['realtime', 'live'] as const;

export type SurfaceName = (typeof SURFACE_NAMES)[number];

export function isSurfaceName(value: unknown): value is SurfaceName {
  return value === 'realtime' || value === 'live';
}

/** The surface that is not this one. */
export function otherSurface(surface: SurfaceName): SurfaceName {
  return surface === 'realtime' ? 'live' : 'realtime';
}
