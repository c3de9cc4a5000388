import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { CALL_EVENTS } from '../events/call-event-types';
import { SwitchboardMetrics } from '../metrics/switchboard-metrics';
import { OnWebhookEventFirst } from '../webhooks/handlers/on-webhook-event.decorator';
import { WebhookEventContext } from '../webhooks/handlers/webhook-event-context';
import { CallOutcomes, DecisionRequest, statusOf } from './call-outcomes';
import { CallRouteLine } from './call-route-line';
import { CALLS_MODULE_OPTIONS } from './calls.module-definition';
import { CallsModuleOptions } from './calls.options';
import { DEFAULT_TWIN_WAIT_MS } from './twins/twin-wait';
import { CompiledRuleSet, Decision } from './rules/rule-set';
import { RulesService } from './rules/rules.service';
import { CallFacts, CallOfferFacts, deriveCallFacts } from './sip/call-facts';
import {
  CALL_STORE,
  CallRecord,
  CallStore,
  ControlOutcome,
  SurfaceArrival,
} from './store/call-store';
import {
  CALL_ANNOUNCEMENT_TYPES,
  CallAnnouncementEvent,
  CallOffer,
  offerOf,
} from './surfaces/call-offer';
import { ControlRequest, sendThrough } from './surfaces/call-surface';
import { CallSurfaces } from './surfaces/call-surfaces';
import { SidebandService } from './sideband/sideband.service';
import { settleOnSurface } from './surfaces/settle-surface';
import { otherSurface, SurfaceName } from './surfaces/surface-name';
import { announcedSurfaces } from './twins/announced-surfaces';
import { physicalCallKey } from './twins/physical-call-key';
import { mediaSecurityOf, twinToWaitFor } from './twins/awaited-twin';
import { TwinRendezvous } from './twins/twin-rendezvous';

/** What a decision needs besides the record: the rules it was made by and the call's facts. */
interface DecisionContext {
  set: CompiledRuleSet;
  facts: CallFacts;
  /** When the call's first announcement arrived (ms since the epoch). */
  receivedAt: number;
}

/**
 * Answers ringing calls, on either surface. Discovered like any `@OnWebhookEvent` handler, but
 * in the first stage (`@OnWebhookEventFirst`): every other handler of the event, whatever its
 * priority, starts only once the decision has been carried out (or call control has given up).
 *
 * One physical call may be announced twice, once per surface (`realtime.call.incoming` and
 * `live.transport.incoming`). The store pairs the twins; whichever arrives first makes the
 * call's one decision and sends its one control request, and the other is recorded on the same
 * call and never routed again. When the decision prefers the surface whose announcement has not
 * arrived yet, it waits for it, bounded by `twinWaitMs`, then takes the surface it has.
 */
@Injectable()
export class CallsService {
  private readonly logger = new Logger('Calls');
  private readonly now: () => Date;
  private readonly routeLine: CallRouteLine;
  private readonly twinWaitMs: number;

  constructor(
    private readonly rules: RulesService,
    private readonly surfaces: CallSurfaces,
    private readonly outcomes: CallOutcomes,
    private readonly twins: TwinRendezvous,
    @Inject(CALL_STORE) private readonly store: CallStore,
    @Inject(CALLS_MODULE_OPTIONS) options: CallsModuleOptions,
    @Optional() private readonly metrics?: SwitchboardMetrics,
    @Optional() private readonly sidebands?: SidebandService,
  ) {
    this.now = options.now ?? (() => new Date());
    this.routeLine = new CallRouteLine(options.redactCallerIds ?? false);
    this.twinWaitMs = options.twinWaitMs ?? DEFAULT_TWIN_WAIT_MS;
  }

  // One attempt: a retried handler could act twice; call control retries inside, bounded.
  @OnWebhookEventFirst([...CALL_ANNOUNCEMENT_TYPES], { maxAttempts: 1 })
  async onIncomingCall(event: CallAnnouncementEvent, context: WebhookEventContext): Promise<void> {
    // Headers arrive bounded (see SIP_HEADER_LIMITS); what was cut is in `adjustments`.
    const offer = offerOf(event);
    if (offer.transport !== undefined && offer.transport !== 'sip') {
      this.logger.log(
        `${event.type} ${offer.id} is a ${offer.transport} transport, not a SIP call: not routed`,
      );
      return;
    }
    const set = this.rules.current.set; // this call sees one version, whatever reloads meanwhile
    const twinMayCome = this.twinWaitMs > 0;
    const { facts, decision } = this.decide(set, offer.id, offer.sipHeaders, {
      surfaces: [offer.surface],
      mediaSecurity: offer.mediaSecurity,
      twinMayCome,
    });
    const waitFor = twinToWaitFor(decision, facts, [offer.surface], twinMayCome);
    // Without a wait, the surface is settled now and written with the record: one write.
    const settled = waitFor ? undefined : settleOnSurface(set, facts, decision, [offer.surface]);
    const arrival: SurfaceArrival = {
      id: offer.id,
      event_type: event.type,
      event_id: event.id,
      event_seq: context.seq,
      received_at: new Date(context.receivedAt).toISOString(),
      after_first_ms: 0,
      ...(offer.mediaSecurity ? { sip_media_security: offer.mediaSecurity } : {}),
    };
    const record: CallRecord = {
      call_id: offer.id,
      event_id: event.id,
      event_seq: context.seq,
      sip_headers: offer.sipHeaders,
      ...(offer.adjustments ? { adjustments: offer.adjustments } : {}),
      status: waitFor ? 'waiting' : this.surfaces.dryRun ? 'dry_run' : 'acting',
      decision: settled?.decision ?? decision,
      openai: null,
      timings: {
        received_at: arrival.received_at,
        decided_after_ms: Date.now() - context.receivedAt,
      },
      operator_actions: [],
      surfaces: { [offer.surface]: arrival },
      ...(settled ? { surface: settled.surface } : {}),
    };
    // One record per physical call: a twin or a redelivery finds it and routes nothing.
    const announcement = { surface: offer.surface, id: offer.id, pairKey: physicalCallKey(facts) };
    const claimed = await this.store.claim(record, announcement, arrival);
    if (claimed.outcome === 'twin') return this.noteTwin(claimed.record, offer);
    if (claimed.outcome === 'seen') return this.seenAgain(claimed.record, event.id, context);
    const decisionContext = { set, facts, receivedAt: context.receivedAt };
    if (settled) await this.send(record, settled.surface, settled.request, decisionContext);
    else await this.afterTwin(record, waitFor!, decisionContext);
  }

  /**
   * The rules' decision for the call. Should reading the headers fail, the call is still
   * answered, by `on_error` on a call without headers: it must not be left ringing.
   */
  private decide(
    set: CompiledRuleSet,
    callId: string,
    headers: readonly { name: string; value: string }[],
    offer: Omit<CallOfferFacts, 'readTwinFacts'>,
  ): { facts: CallFacts; decision: Decision } {
    try {
      const facts = deriveCallFacts(callId, headers, set.defaultCountry, offer);
      return { facts, decision: set.decide(facts, this.now()) };
    } catch (error) {
      const facts = deriveCallFacts(callId, [], set.defaultCountry, offer);
      const decision = set.onError(facts, {
        matched: null,
        rules_before: [],
        skipped_by_index: 0,
        error: `the call's SIP headers could not be read: ${(error as Error).message}`,
      });
      return { facts, decision };
    }
  }

  /**
   * The decider of a call that waits for its twin: waits for `waitFor`'s announcement (at most
   * what is left of `twinWaitMs` since the first one); if the twin came, the call is decided
   * again knowing both. Then the decision goes to its surface, or falls back to `on_error` when
   * no announced surface can carry it. Nothing was sent before.
   */
  private async afterTwin(
    record: CallRecord,
    waitFor: SurfaceName,
    context: DecisionContext,
  ): Promise<void> {
    const callId = record.call_id;
    let decision = record.decision;
    let facts = context.facts;
    const started = Date.now();
    const left = this.twinWaitMs - (started - context.receivedAt);
    await this.twins.awaitTwin(callId, left, async () =>
      Boolean((await this.store.get(callId))?.surfaces[waitFor]),
    );
    const waitedMs = Date.now() - started;
    const current = (await this.store.get(callId)) ?? record;
    const announced = announcedSurfaces(current);
    if (announced.length > 1) {
      ({ facts, decision } = this.decide(context.set, callId, record.sip_headers, {
        surfaces: announced,
        mediaSecurity: mediaSecurityOf(current),
        twinMayCome: false,
      }));
    }
    const settled = settleOnSurface(context.set, facts, decision, announced);
    const timings = { ...record.timings, waited_for_twin_ms: waitedMs };
    const patch = {
      status: this.surfaces.dryRun ? ('dry_run' as const) : ('acting' as const),
      decision: settled.decision,
      surface: settled.surface,
      timings,
    };
    // Leaving `waiting` is a compare-and-set: exactly one sender, even after a restart.
    const committed = await this.store.update(callId, patch, 'waiting');
    if (!committed) {
      this.logger.warn(`call ${callId} was decided meanwhile by another run; not sent again`);
      return;
    }
    const sent = { ...current, ...patch };
    await this.send(sent, settled.surface, settled.request, { ...context, facts }, waitedMs);
  }

  private async send(
    record: CallRecord,
    surface: SurfaceName,
    request: DecisionRequest,
    context: DecisionContext,
    waitedMs?: number,
  ): Promise<void> {
    const callId = record.call_id;
    const { decision } = record;
    const id = record.surfaces[surface]?.id ?? callId;
    // The accept offers the tools the rule names (their declarations come from the handlers).
    const sent = this.sidebands?.prepareAccept(surface, request, decision) ?? request;
    const sending = sendThrough(this.surfaces.get(surface), id, sent);
    const announced = announcedSurfaces(record);
    this.logger.log(
      this.routeLine.describe(
        callId,
        context.facts,
        decision,
        record.adjustments,
        this.surfaces.dryRun,
        {
          surface,
          worthSaying: announced.length > 1 || surface !== 'realtime',
          waitedMs,
        },
      ),
    );
    this.metrics?.routingDecisions.inc({
      rule: decision.rule ?? `(${decision.route})`,
      action: decision.action.type,
    });
    void this.outcomes.publish(CALL_EVENTS.routed, {
      call_id: callId,
      route: decision.route,
      rule: decision.rule,
      action: decision.action,
      rules_version: decision.rules_version,
      dry_run: this.surfaces.dryRun,
      surface,
      ...(record.adjustments ? { adjustments: record.adjustments } : {}),
    });
    const outcome = await sending;
    await this.finish(record, surface, request, outcome, context);
  }

  /** The other surface's announcement of a call already recorded: noted on it, not routed. */
  private noteTwin(record: CallRecord, offer: CallOffer): void {
    const twin = record.surfaces[offer.surface];
    const by =
      twin?.paired_by === 'shared_id' ? 'the id both share' : 'its SIP Call-ID, From and To';
    this.logger.log(
      `call ${record.call_id}: its ${offer.surface} twin ${offer.id} arrived ${twin?.after_first_ms ?? 0} ms after it (paired by ${by}); not routed again`,
    );
    this.twins.arrived(record.call_id);
  }

  /**
   * This very announcement was recorded before. Under another webhook-id it is a redelivery:
   * nothing happens. As the same event, the handler was resumed after a restart: a decision
   * still waiting for its twin goes on (nothing was sent); one that was being sent is settled.
   */
  private async seenAgain(
    record: CallRecord,
    eventId: string,
    context: WebhookEventContext,
  ): Promise<void> {
    if (record.event_seq === context.seq && record.status === 'waiting') {
      this.logger.log(`call ${record.call_id}: resuming its decision after a restart`);
      const set = this.rules.current.set;
      const announced = announcedSurfaces(record);
      const offer = { surfaces: announced, mediaSecurity: mediaSecurityOf(record) };
      const { facts, decision } = this.decide(set, record.call_id, record.sip_headers, {
        ...offer,
        twinMayCome: true,
      });
      // The other surface, or the preferred one: whichever the decision is waiting for.
      const waitFor = twinToWaitFor(decision, facts, announced, true) ?? otherSurface(announced[0]);
      const receivedAt = Date.parse(record.timings.received_at);
      return this.afterTwin(record, waitFor, { set, facts, receivedAt });
    }
    await this.settleInterrupted(record, context);
    this.logger.warn(`call ${record.call_id} was already routed; event ${eventId} ignored`);
  }

  /**
   * An operator's hangup or transfer of a live call, on the surface that answered it. The
   * built-in call tools (`transfer_call`, `end_call`) take the same path, as `by: 'tool'`.
   */
  async operatorAction(
    id: string,
    request: Extract<ControlRequest, { type: 'hangup' } | { type: 'refer' }>,
    asker: { by: 'operator' | 'tool'; reason?: string } = { by: 'operator' },
  ): Promise<{ record: CallRecord; outcome: ControlOutcome | undefined } | undefined> {
    const existing = await this.store.get(id);
    if (!existing) return undefined;
    const callId = existing.call_id;
    const surface = existing.surface ?? announcedSurfaces(existing)[0];
    const target = existing.surfaces[surface]?.id ?? callId;
    const outcome = await sendThrough(this.surfaces.get(surface), target, request);
    // Appended in one store transaction: two operators acting at once both get recorded.
    const record = await this.store.appendOperatorAction(callId, {
      action: request.type,
      ...(request.type === 'refer' ? { target_uri: request.target_uri } : {}),
      at: new Date().toISOString(),
      surface,
      outcome: outcome ?? { dry_run: true },
      ...(asker.by === 'tool' ? { by: 'tool' as const } : {}),
      ...(asker.reason ? { reason: asker.reason } : {}),
    });
    if (!record) return undefined;
    this.outcomes.operated(callId, surface, request, outcome, asker);
    this.sidebands?.noteAction(callId, request, outcome, asker.by);
    return { record, outcome };
  }

  /**
   * An operator's text into the conversation of a call in progress, through the sideband this
   * process holds: recorded as an operator action (and a transcript turn when the rule keeps
   * them). In a dry run it is recorded, not sent. Undefined: no such call.
   */
  async operatorMessage(
    id: string,
    text: string,
  ): Promise<{ record: CallRecord; sent: boolean } | { refused: string } | undefined> {
    const existing = await this.store.get(id);
    if (!existing) return undefined;
    const callId = existing.call_id;
    const surface = existing.surface ?? announcedSurfaces(existing)[0];
    const result = this.sidebands?.message(callId, text) ?? { refused: 'dry_run' as const };
    if ('refused' in result && result.refused !== 'dry_run') {
      const state = existing.ended
        ? `it ended (${existing.ended.reason})`
        : existing.sideband
          ? `its sideband is ${existing.sideband.state}${existing.sideband.owner ? ` on ${existing.sideband.owner}` : ''}`
          : 'it was not answered';
      return { refused: `call ${id} has no open sideband on this instance: ${state}` };
    }
    const sent = 'sent' in result;
    const record = await this.store.appendOperatorAction(callId, {
      action: 'message',
      text,
      at: new Date().toISOString(),
      surface,
      outcome: sent ? { ok: true, attempts: 1, duration_ms: 0 } : { dry_run: true },
    });
    if (!record) return undefined;
    return { record, sent };
  }

  private async finish(
    record: CallRecord,
    surface: SurfaceName,
    request: DecisionRequest,
    outcome: ControlOutcome | undefined,
    context: DecisionContext,
  ): Promise<void> {
    const callId = record.call_id;
    const status = statusOf(outcome);
    const receivedAt = context.receivedAt;
    // Answered: the record says so, and the call's sideband is held, in the same write.
    const answer =
      request.type === 'accept' && outcome?.ok ? this.sidebands?.prepareAnswer(record) : undefined;
    // Compare-and-set on the status it was sent with: should this instance's lease have
    // lapsed mid-send, another one may have settled the call meanwhile (outcome unknown).
    const settled = await this.store
      .update(
        callId,
        {
          status,
          openai: outcome ?? null,
          timings: {
            ...record.timings,
            ...(outcome ? { answered_after_ms: Date.now() - receivedAt } : {}),
          },
          ...answer?.fields,
        },
        record.status,
        answer?.hold,
      )
      .catch((error: unknown) => {
        if (answer) this.sidebands?.cancelAnswer(answer);
        throw error;
      });
    if (!settled) {
      if (answer) this.sidebands?.cancelAnswer(answer);
      return this.noteLateOutcome(callId, request, status, outcome);
    }
    try {
      await this.outcomes.decided(record, surface, request, outcome);
    } catch (error) {
      // The call is settled and held: whoever adopts it once the lease passes opens its sideband.
      if (answer) this.sidebands?.cancelAnswer(answer);
      throw error;
    }
    // From here the call's sideband follows it to its end.
    if (answer) await this.sidebands?.answered(record, surface, context.facts, answer);
  }

  /**
   * OpenAI answered after the call was settled without this answer (by another instance that
   * took the handler run over when this one's lease lapsed). The settlement stands, and its
   * lifecycle event was the one published: a second, contradicting event would tell listeners
   * the call was both failed and accepted. What OpenAI really did is kept on the record as
   * `late_outcome`, and said in one log line, so that an operator can act on it.
   */
  private async noteLateOutcome(
    callId: string,
    request: DecisionRequest,
    status: CallRecord['status'],
    outcome: ControlOutcome | undefined,
  ): Promise<void> {
    const late = { at: new Date().toISOString(), status, outcome: outcome ?? null };
    await this.store.update(callId, { late_outcome: late });
    const settledAs = (await this.store.get(callId))?.status ?? 'gone';
    const answer = outcome?.ok
      ? 'succeeded'
      : `did not succeed (${outcome?.status ?? outcome?.error ?? 'not sent'})`;
    const hint =
      request.type === 'accept' && outcome?.ok
        ? '; the call is live without its sideband: POST /calls/' + callId + '/hangup ends it'
        : '';
    this.logger.warn(
      `call ${callId}: its ${request.type} ${answer}, but another instance had settled the call as ${settledAs} meanwhile (this instance's lease lapsed); kept as late_outcome, no event published${hint}`,
    );
  }

  /**
   * A restart resumed this handler for a call whose action was under way when the process
   * died. Whether OpenAI got it is unknown, and sending it again could act twice: say so.
   */
  private async settleInterrupted(record: CallRecord, context: WebhookEventContext): Promise<void> {
    // A redelivery under another webhook-id is another event (another seq): not this case.
    if (record.status !== 'acting' || record.event_seq !== context.seq) return;
    const outcome = {
      ok: false,
      attempts: 0,
      duration_ms: 0,
      error:
        'handled again while its action was under way (a restart); outcome unknown, not resent',
    };
    // Compare-and-set: the first sender (whose lease lapsed) may have finished meanwhile.
    const settled = await this.store.update(
      record.call_id,
      { status: 'failed', openai: outcome },
      'acting',
    );
    if (!settled) return;
    await this.outcomes.publish(CALL_EVENTS.actionFailed, { call_id: record.call_id, ...outcome });
  }
}
