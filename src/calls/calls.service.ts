import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { CALL_EVENTS, CallEventType } from '../events/call-event-types';
import { SwitchboardMetrics } from '../metrics/switchboard-metrics';
import {
  CallEventAdjustments,
  RealtimeCallIncomingEvent,
} from '../realtime-call/dto/realtime-call-incoming.dto';
import { OnWebhookEventFirst } from '../webhooks/handlers/on-webhook-event.decorator';
import { WebhookEventContext } from '../webhooks/handlers/webhook-event-context';
import { SwitchboardEventPublisher } from '../webhooks/switchboard-event.publisher';
import { CALLS_MODULE_OPTIONS } from './calls.module-definition';
import { CallsModuleOptions } from './calls.options';
import { CallSurfaces } from './surfaces/call-surfaces';
import { ControlRequest, sendThrough } from './surfaces/call-surface';
import { RenderedAction } from './rules/route-action';
import { RulesService } from './rules/rules.service';
import { addressPart, CallFacts, deriveCallFacts } from './sip/call-facts';
import { Decision } from './rules/rule-set';
import { CALL_STORE, CallRecord, CallStatus, CallStore, ControlOutcome } from './store/call-store';

const DONE_EVENT: Record<RenderedAction['type'], CallEventType> = {
  accept: CALL_EVENTS.accepted,
  reject: CALL_EVENTS.rejected,
  refer: CALL_EVENTS.referred,
};

/**
 * Answers ringing calls. Discovered like any `@OnWebhookEvent` handler, but in the first stage
 * (`@OnWebhookEventFirst`): every other handler of the event, whatever its priority, starts
 * only once the decision has been carried out (or call control has given up, within 6 s).
 */
@Injectable()
export class CallsService {
  private readonly logger = new Logger('Calls');
  private readonly now: () => Date;
  private readonly redact: boolean;

  constructor(
    private readonly rules: RulesService,
    private readonly surfaces: CallSurfaces,
    private readonly publisher: SwitchboardEventPublisher,
    @Inject(CALL_STORE) private readonly store: CallStore,
    @Inject(CALLS_MODULE_OPTIONS) options: CallsModuleOptions,
    @Optional() private readonly metrics?: SwitchboardMetrics,
  ) {
    this.now = options.now ?? (() => new Date());
    this.redact = options.redactCallerIds ?? false;
  }

  // One attempt: a retried handler could act twice; call control retries inside, bounded.
  @OnWebhookEventFirst('realtime.call.incoming', { maxAttempts: 1 })
  async onIncomingCall(
    event: RealtimeCallIncomingEvent,
    context: WebhookEventContext,
  ): Promise<void> {
    // Headers arrive bounded (see SIP_HEADER_LIMITS); what was cut is in `adjustments`.
    const { call_id: callId, sip_headers: headers, adjustments } = event.data;
    const { facts, decision } = this.decide(callId, headers);
    const record: CallRecord = {
      call_id: callId,
      event_id: event.id,
      event_seq: context.seq,
      sip_headers: headers,
      ...(adjustments ? { adjustments } : {}),
      status: this.surfaces.dryRun ? 'dry_run' : 'acting',
      decision,
      openai: null,
      timings: {
        received_at: new Date(context.receivedAt).toISOString(),
        decided_after_ms: Date.now() - context.receivedAt,
      },
      operator_actions: [],
    };
    // A redelivery (another webhook-id for the same call) finds the record and does nothing.
    if (!(await this.store.create(record))) {
      await this.settleInterrupted(callId, context);
      this.logger.warn(`call ${callId} was already routed; event ${event.id} ignored`);
      return;
    }
    const sending = sendThrough(this.surfaces.get('realtime'), callId, decision.action);
    this.logger.log(this.describeRoute(callId, facts, decision, adjustments));
    this.metrics?.routingDecisions.inc({
      rule: decision.rule ?? `(${decision.route})`,
      action: decision.action.type,
    });
    void this.publish(CALL_EVENTS.routed, {
      call_id: callId,
      route: decision.route,
      rule: decision.rule,
      action: decision.action,
      rules_version: decision.rules_version,
      dry_run: this.surfaces.dryRun,
      ...(adjustments ? { adjustments } : {}),
    });
    const outcome = await sending;
    await this.finish(record, decision.action, outcome, context.receivedAt);
  }

  /**
   * The rules' decision for the call. Should reading the headers fail, the call is still
   * answered, by `on_error` on a call without headers: it must not be left ringing.
   */
  private decide(
    callId: string,
    headers: readonly { name: string; value: string }[],
  ): { facts: CallFacts; decision: Decision } {
    const set = this.rules.current.set; // this call sees one version, whatever reloads meanwhile
    try {
      const facts = deriveCallFacts(callId, headers, set.defaultCountry);
      return { facts, decision: set.decide(facts, this.now()) };
    } catch (error) {
      const facts = deriveCallFacts(callId, [], set.defaultCountry);
      const decision = set.onError(facts, {
        matched: null,
        rules_before: [],
        skipped_by_index: 0,
        error: `the call's SIP headers could not be read: ${(error as Error).message}`,
      });
      return { facts, decision };
    }
  }

  /** An operator's hangup or transfer of a live call. */
  async operatorAction(
    callId: string,
    request: Extract<ControlRequest, { type: 'hangup' } | { type: 'refer' }>,
  ): Promise<{ record: CallRecord; outcome: ControlOutcome | undefined } | undefined> {
    if (!(await this.store.get(callId))) return undefined;
    const outcome = await sendThrough(this.surfaces.get('realtime'), callId, request);
    this.observeControl(request.type, statusOf(outcome), outcome);
    // Appended in one store transaction: two operators acting at once both get recorded.
    const record = await this.store.appendOperatorAction(callId, {
      action: request.type,
      ...(request.type === 'refer' ? { target_uri: request.target_uri } : {}),
      at: new Date().toISOString(),
      outcome: outcome ?? { dry_run: true },
    });
    if (!record) return undefined;
    if (!outcome || outcome.ok) {
      const type = request.type === 'hangup' ? CALL_EVENTS.hungUp : CALL_EVENTS.referred;
      void this.publish(type, { call_id: callId, by: 'operator', ...request, dry_run: !outcome });
    } else {
      void this.publish(CALL_EVENTS.actionFailed, {
        call_id: callId,
        by: 'operator',
        action: request.type,
        ...outcome,
      });
    }
    return { record, outcome };
  }

  private async finish(
    record: CallRecord,
    action: RenderedAction,
    outcome: ControlOutcome | undefined,
    receivedAt: number,
  ): Promise<void> {
    const callId = record.call_id;
    const status = statusOf(outcome);
    await this.store.update(callId, {
      status,
      openai: outcome ?? null,
      timings: {
        ...record.timings,
        ...(outcome ? { answered_after_ms: Date.now() - receivedAt } : {}),
      },
    });
    const base = { call_id: callId, rule: record.decision.rule, dry_run: !outcome };
    this.observeControl(action.type, status, outcome);
    if (status === 'caller_gone') {
      // Not an alarm: the caller hung up before the answer reached OpenAI.
      this.logger.log(`call ${callId}: the caller hung up before we answered (404)`);
      await this.publish(CALL_EVENTS.notFound, { ...base, action: action.type });
    } else if (status === 'failed') {
      this.logger.error(
        `call ${callId}: ${action.type} failed after ${outcome?.attempts} attempt(s): ${outcome?.error}`,
      );
      await this.publish(CALL_EVENTS.actionFailed, { ...base, action: action.type, ...outcome });
    } else {
      await this.publish(DONE_EVENT[action.type], {
        ...base,
        action,
        ...(outcome ? { attempts: outcome.attempts } : {}),
      });
    }
  }

  /**
   * A restart resumed this handler for a call whose action was under way when the process
   * died. Whether OpenAI got it is unknown, and sending it again could act twice: say so.
   */
  private async settleInterrupted(callId: string, context: WebhookEventContext): Promise<void> {
    const existing = await this.store.get(callId);
    // A redelivery under another webhook-id is another event (another seq): not this case.
    if (existing?.status !== 'acting' || existing.event_seq !== context.seq) return;
    const outcome = {
      ok: false,
      attempts: 0,
      duration_ms: 0,
      error:
        'handled again while its action was under way (a restart); outcome unknown, not resent',
    };
    await this.store.update(callId, { status: 'failed', openai: outcome });
    await this.publish(CALL_EVENTS.actionFailed, { call_id: callId, ...outcome });
  }

  /**
   * `call rtc_1 from +14155550123 to +18005550100: vip-support -> accept`, with what was cut
   * from an odd event: `(SIP headers: 44 dropped, 1 truncated)`.
   */
  private describeRoute(
    callId: string,
    facts: CallFacts,
    decision: Decision,
    adjustments: CallEventAdjustments | undefined,
  ): string {
    const from =
      addressPart(facts, 'caller', 'number')[0] ?? addressPart(facts, 'caller', 'uri')[0];
    const to = addressPart(facts, 'called', 'number')[0];
    const route = decision.rule ?? `(${decision.route})`;
    const dry = this.surfaces.dryRun ? ' (dry run: not sent)' : '';
    return `call ${callId} from ${this.shown(from)} to ${this.shown(to)}: ${route} -> ${decision.action.type}${dry}${describeAdjustments(adjustments)}`;
  }

  /** A number for a log line, masked when configured: it is personal data. */
  private shown(value: string | undefined): string {
    if (value === undefined) return '(unknown)';
    return this.redact ? `${'*'.repeat(Math.max(0, value.length - 4))}${value.slice(-4)}` : value;
  }

  private observeControl(action: string, status: CallStatus, outcome: ControlOutcome | undefined) {
    if (!this.metrics || !outcome) return;
    const result = status === 'completed' ? 'ok' : status;
    this.metrics.callControlDuration.observe(
      { action, outcome: result },
      outcome.duration_ms / 1000,
    );
    if (status === 'failed') this.metrics.callControlErrors.inc({ action });
  }

  private async publish(type: CallEventType, data: object): Promise<void> {
    try {
      await this.publisher.publish(type, data);
    } catch (error) {
      this.logger.error(`could not publish ${type}: ${(error as Error).message}`);
    }
  }
}

function describeAdjustments(adjustments: CallEventAdjustments | undefined): string {
  if (!adjustments) return '';
  const notes: string[] = [];
  const cut = adjustments.sip_headers;
  if (cut?.problem) notes.push(cut.problem);
  if (cut?.dropped) notes.push(`${cut.dropped} SIP header(s) dropped`);
  if (cut?.truncated.length) notes.push(`${cut.truncated.length} SIP header value(s) truncated`);
  if (cut?.converted) notes.push(`${cut.converted} SIP header(s) converted to text`);
  if (adjustments.replaced?.length) {
    notes.push(`envelope ${adjustments.replaced.map((field) => field.path).join(', ')} replaced`);
  }
  return notes.length > 0 ? ` (${notes.join('; ')})` : '';
}

/** What OpenAI's answer means for the call: none (dry run), done, caller gone, or failed. */
function statusOf(outcome: ControlOutcome | undefined): CallStatus {
  if (!outcome) return 'dry_run';
  if (outcome.ok) return 'completed';
  return outcome.status === 404 ? 'caller_gone' : 'failed';
}
