import { CallControlClient } from '../control/call-control.client';
import type { ControlOutcome } from '../store/call-store';
import type { CallSurface } from './call-surface';

/**
 * The Live surface (`gpt-live-1`): `POST /v1/live/sessions/{session_id}/accept|reject|refer|hangup`,
 * each answered with an empty 200. The typed `client.live.sessions` exists only in openai-node 7
 * (Node 22), so this goes through the SDK's generic `client.post`: the same auth, errors and
 * transport as the Realtime surface. An accept's body wraps the session: `{ session: {...} }`.
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

  private post(id: string, verb: string, body?: object): Promise<ControlOutcome | undefined> {
    // The id goes into the path: escaped, as the SDK's own path helper escapes the Realtime one.
    const path = `/live/sessions/${encodeURIComponent(id)}/${verb}`;
    return this.control.execute((client, options) =>
      client.post(path, {
        ...options,
        ...(body === undefined ? {} : { body }),
        headers: { Accept: '*/*' },
      }),
    );
  }
}
