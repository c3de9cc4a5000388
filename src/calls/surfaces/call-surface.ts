import type { ControlOutcome } from '../store/call-store';
import type { SurfaceName } from './surface-name';

/** What Switchboard asks OpenAI to do with one call, on whichever surface answers it. */
export type ControlRequest =
  | { type: 'accept'; session: Record<string, unknown> }
  | { type: 'reject'; status_code: number }
  | { type: 'refer'; target_uri: string }
  | { type: 'hangup' };

/**
 * One of OpenAI's call-control surfaces. Each implementation knows its paths and bodies; they
 * share one transport (`CallControlClient`: auth, bounded retries, errors). Every method sends
 * one request and never throws: the outcome, or undefined in a dry run (no API key).
 */
export interface CallSurface {
  readonly name: SurfaceName;
  /** Answers the call with a session config of this surface. */
  accept(id: string, session: Record<string, unknown>): Promise<ControlOutcome | undefined>;
  /** Declines the call with a SIP status (300 to 699). */
  reject(id: string, statusCode: number): Promise<ControlOutcome | undefined>;
  /** Transfers the call (SIP REFER) to a `sip:`, `sips:` or `tel:` URI. */
  refer(id: string, targetUri: string): Promise<ControlOutcome | undefined>;
  /** Ends a call in progress. */
  hangup(id: string): Promise<ControlOutcome | undefined>;
}

/** Sends one request through a surface: the one place that maps a request to its method. */
export function sendThrough(
  surface: CallSurface,
  id: string,
  request: ControlRequest,
): Promise<ControlOutcome | undefined> {
  switch (request.type) {
    case 'accept':
      return surface.accept(id, request.session);
    case 'reject':
      return surface.reject(id, request.status_code);
    case 'refer':
      return surface.refer(id, request.target_uri);
    case 'hangup':
      return surface.hangup(id);
    default: {
      const unreachable: never = request;
      throw new Error(`unknown request ${JSON.stringify(unreachable)}`);
    }
  }
}
