import { Injectable, Logger, Optional } from '@nestjs/common';
import { CALL_EVENTS, CallEventType } from '../events/call-event-types';
import { SwitchboardMetrics } from '../metrics/switchboard-metrics';
import { SwitchboardEventPublisher } from '../webhooks/switchboard-event.publisher';
import type { CallRecord, CallStatus, ControlOutcome } from './store/call-store';
import type { ControlRequest } from './surfaces/call-surface';
import type { SurfaceName } from './surfaces/surface-name';

export type DecisionRequest = Exclude<ControlRequest, { type: 'hangup' }>;

const DONE_EVENT: Record<DecisionRequest['type'], CallEventType> = {
  accept: CALL_EVENTS.accepted,
  reject: CALL_EVENTS.rejected,
  refer: CALL_EVENTS.referred,
};

/** What OpenAI's answer means for the call: none (dry run), done, caller gone, or failed. */
export function statusOf(outcome: ControlOutcome | undefined): CallStatus {
  if (!outcome) return 'dry_run';
  if (outcome.ok) return 'completed';
  return outcome.status === 404 ? 'caller_gone' : 'failed';
}

/**
 * How the calls module tells what happened to a call: its lifecycle events (through the same
 * store, dispatch and stream as webhooks), the outcome log lines and the call-control metrics.
 * A failure to publish is logged, never thrown: the call has been handled either way.
 */
@Injectable()
export class CallOutcomes {
  private readonly logger = new Logger('Calls');

  constructor(
    private readonly publisher: SwitchboardEventPublisher,
    @Optional() private readonly metrics?: SwitchboardMetrics,
  ) {}

  /** The decision's request was answered (or not sent, in a dry run): one event says how. */
  async decided(
    record: CallRecord,
    surface: SurfaceName,
    request: DecisionRequest,
    outcome: ControlOutcome | undefined,
  ): Promise<void> {
    const callId = record.call_id;
    const status = statusOf(outcome);
    const base = { call_id: callId, rule: record.decision.rule, dry_run: !outcome, surface };
    this.observe(request.type, status, outcome);
    if (status === 'caller_gone') {
      // Not an alarm: the caller hung up before the answer reached OpenAI.
      this.logger.log(`call ${callId}: the caller hung up before we answered (404)`);
      await this.publish(CALL_EVENTS.notFound, { ...base, action: request.type });
    } else if (status === 'failed') {
      this.logger.error(
        `call ${callId}: ${request.type} failed after ${outcome?.attempts} attempt(s): ${outcome?.error}`,
      );
      await this.publish(CALL_EVENTS.actionFailed, { ...base, action: request.type, ...outcome });
    } else {
      await this.publish(DONE_EVENT[request.type], {
        ...base,
        action: request,
        ...(outcome ? { attempts: outcome.attempts } : {}),
      });
    }
  }

  /** An operator's (or a call tool's) hangup or transfer was answered (or not sent, in a dry run). */
  operated(
    callId: string,
    surface: SurfaceName,
    request: Extract<ControlRequest, { type: 'hangup' } | { type: 'refer' }>,
    outcome: ControlOutcome | undefined,
    asker: { by: 'operator' | 'tool'; reason?: string } = { by: 'operator' },
  ): void {
    const { by, reason } = asker;
    this.observe(request.type, statusOf(outcome), outcome);
    if (!outcome || outcome.ok) {
      const type = request.type === 'hangup' ? CALL_EVENTS.hungUp : CALL_EVENTS.referred;
      void this.publish(type, {
        call_id: callId,
        by,
        ...request,
        ...(reason ? { reason } : {}),
        surface,
        dry_run: !outcome,
      });
    } else {
      void this.publish(CALL_EVENTS.actionFailed, {
        call_id: callId,
        by,
        action: request.type,
        surface,
        ...outcome,
      });
    }
  }

  async publish(type: CallEventType, data: object): Promise<void> {
    try {
      await this.publisher.publish(type, data);
    } catch (error) {
      this.logger.error(`could not publish ${type}: ${(error as Error).message}`);
    }
  }

  private observe(action: string, status: CallStatus, outcome: ControlOutcome | undefined) {
    if (!this.metrics || !outcome) return;
    const result = status === 'completed' ? 'ok' : status;
    this.metrics.callControlDuration.observe(
      { action, outcome: result },
      outcome.duration_ms / 1000,
    );
    if (status === 'failed') this.metrics.callControlErrors.inc({ action });
  }
}
