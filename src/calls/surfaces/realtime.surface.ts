import { CallControlClient, ControlVerb } from '../control/call-control.client';
import type { ControlOutcome } from '../store/call-store';
import type { CallSurface } from './call-surface';

/**
 * The Realtime surface: `POST /v1/realtime/calls/{call_id}/accept|reject|refer|hangup`, as the
 * official SDK's `client.realtime.calls.*` sends them. An accept's body is the session config
 * itself; a hangup has no body.
 */
export class RealtimeSurface implements CallSurface {
  readonly name = 'realtime' as const;

  constructor(private readonly control: CallControlClient) {}

  accept(id: string, session: Record<string, unknown>): Promise<ControlOutcome | undefined> {
    return this.post(id, 'accept', session);
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
    return this.control.execute({ resource: '/realtime/calls', id, escape: 'path', verb, body });
  }
}
