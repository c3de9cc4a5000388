import OpenAI from 'openai';
import { CallControlClient } from '../control/call-control.client';
import type { ControlOutcome } from '../store/call-store';
import type { CallSurface } from './call-surface';

/**
 * The Realtime surface: `client.realtime.calls.accept/reject/refer/hangup` of the official SDK
 * (`/v1/realtime/calls/{call_id}/...`). An accept's body is the session config itself.
 */
export class RealtimeSurface implements CallSurface {
  readonly name = 'realtime' as const;

  constructor(private readonly control: CallControlClient) {}

  accept(id: string, session: Record<string, unknown>): Promise<ControlOutcome | undefined> {
    return this.control.execute((client, options) =>
      client.realtime.calls.accept(
        id,
        session as unknown as OpenAI.Realtime.CallAcceptParams,
        options,
      ),
    );
  }

  reject(id: string, statusCode: number): Promise<ControlOutcome | undefined> {
    return this.control.execute((client, options) =>
      client.realtime.calls.reject(id, { status_code: statusCode }, options),
    );
  }

  refer(id: string, targetUri: string): Promise<ControlOutcome | undefined> {
    return this.control.execute((client, options) =>
      client.realtime.calls.refer(id, { target_uri: targetUri }, options),
    );
  }

  hangup(id: string): Promise<ControlOutcome | undefined> {
    return this.control.execute((client, options) => client.realtime.calls.hangup(id, options));
  }
}
