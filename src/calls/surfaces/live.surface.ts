import { CallControlClient, ControlVerb } from '../control/call-control.client';
import type { ControlOutcome } from '../store/call-store';
import type { CallSurface } from './call-surface';

/**
 * The Live surface (`gpt-live-1`): `POST /v1/live/sessions/{session_id}/accept|reject|refer|hangup`,
 * each answered with an empty 200, through the same transport as the Realtime surface (the
 * typed `client.live.sessions` of the SDK exists only in openai-node 7, which needs Node 22).
 * An accept's body wraps the session: `{ session: {...} }`.
 */
export class LiveSurface implements CallSurface {
  readonly name = 'live' as const;

  constructor(private readonly control: CallControlClient) {}

  accept(id: string, session: Record<string, unknown>): Promise<ControlOutcome | undefined> {
    return this.post(id, 'accept', { session });
  }

  reject(id: string, statusCode: number): Promise<ControlOutcome | undefined> {
    return this.post(id, 'reject', { status_code: statusCode });
  }

  refer(id: string, targetUri: string): Promise<ControlOutcome | undefined> {
    return this.post(id, 'refer', { target_uri: targetUri });
  }

  hangup(id: string): Promise<ControlOutcome | undefined> {
    return this.post(id, 'hangup');
  }

  private post(id: string, verb: ControlVerb, body?: object): Promise<ControlOutcome | undefined> {
    return this.control.execute({
      resource: '/live/sessions',
      id,
      escape: 'component',
      verb,
      body,
    });
  }
}
