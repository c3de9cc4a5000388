import { Inject, Injectable, Logger, OnApplicationBootstrap, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { CALL_EVENTS } from '../../events/call-event-types';
import { CallOutcomes } from '../call-outcomes';
import { CALLS_MODULE_OPTIONS } from '../calls.module-definition';
import type { CallsModuleOptions } from '../calls.options';
import type { CallBehaviour } from '../rules/call-behaviour';
import type { Decision } from '../rules/rule-set';
import { addressPart, CallFacts, deriveCallFacts } from '../sip/call-facts';
import {
  CALL_STORE,
  CallRecord,
  CallStore,
  ControlOutcome,
  SidebandHold,
} from '../store/call-store';
import type { ControlRequest } from '../surfaces/call-surface';
import type { SurfaceName } from '../surfaces/surface-name';
import { CALL_TOOL_RUNNER, CallToolRunner } from '../tools/call-tool-runner';
import { CallJournal, SessionFields } from './call-journal';
import { liveProtocol } from './live.protocol';
import { realtimeProtocol } from './realtime.protocol';
import { SIDEBAND_DEFAULTS } from './sideband.options';
import { SidebandSession } from './sideband-session';
import { redactNumbers } from './transcript-redaction';

const PROTOCOLS = { realtime: realtimeProtocol, live: liveProtocol };
/** How many ended sessions are kept for late answers (see `ended`). */
const RECENTLY_ENDED = 1000;
const DEFAULT_BASE_URL = 'https://api.openai.com/v1';
/** Realtime keeps the caller's words only when the session transcribes its input. */
const DEFAULT_INPUT_TRANSCRIPTION = { model: 'gpt-4o-mini-transcribe' };

/** See `SidebandService.prepareAnswer`. */
export interface PreparedAnswer {
  readonly callId: string;
  /** No room for a sideband here: the call is answered without one. */
  readonly full: boolean;
  readonly fields: SessionFields;
  /** The lease to take with the write; none when no sideband is opened. */
  readonly hold?: SidebandHold;
  /** Its room given back (or taken by the session). */
  released?: boolean;
}

/** Why a message could not be put into a call's conversation. */
export type MessageRefusal = 'no_call' | 'dry_run' | 'not_here';

/**
 * The sidebands of the calls this process answered: one session per call, opened right after a
 * successful accept (on either surface), at most `sideband.maxCalls` at once. No sidebands in a
 * dry run (no API key). The sessions are closed cleanly on shutdown.
 */
@Injectable()
export class SidebandService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Sideband');
  private readonly sessions = new Map<string, SidebandSession>();
  /**
   * Sessions that ended lately: OpenAI's answer to our own hangup or transfer can arrive after
   * the sideband closed for it, and still belongs in the record.
   */
  private readonly ended = new Map<string, SidebandSession>();
  private readonly owner = `${hostname()}:${process.pid}`;
  /**
   * Who holds the leases: the owner and this run of it (a restarted container may have the
   * same host name and pid, and must still see its former self's leases as another's).
   */
  private readonly holder = `${this.owner}/${randomUUID().slice(0, 8)}`;
  private readonly leaseMs: number;
  private leaseTimer?: NodeJS.Timeout;
  /** The renewal (and adoption) in progress: one at a time; a tick meanwhile is skipped. */
  private tending?: Promise<void>;
  private stopping = false;
  /** Each open sideband's first lease write: what later lease writes of the call follow. */
  private readonly holds = new Map<string, Promise<void>>();
  private readonly apiKey?: string;
  private readonly baseURL: string;
  private readonly maxCalls: number;
  private readonly redact: (text: string) => string;
  private readonly redacting: boolean;
  private readonly sessionOptions;
  /** Sidebands promised to calls being settled (`prepareAnswer`), not open yet. */
  private reserved = 0;

  constructor(
    @Inject(CALL_STORE) private readonly store: CallStore,
    private readonly outcomes: CallOutcomes,
    @Inject(CALLS_MODULE_OPTIONS) options: CallsModuleOptions,
    @Optional() @Inject(CALL_TOOL_RUNNER) private readonly runner?: CallToolRunner,
  ) {
    this.apiKey = options.callControl?.apiKey;
    this.baseURL = options.callControl?.baseURL ?? DEFAULT_BASE_URL;
    const { maxCalls, leaseMs, redactNumbers: redacting, ...rest } = options.sideband ?? {};
    this.maxCalls = maxCalls ?? SIDEBAND_DEFAULTS.maxCalls;
    this.leaseMs = leaseMs ?? SIDEBAND_DEFAULTS.leaseMs;
    const masked = redacting ?? options.redactCallerIds ?? false;
    this.redacting = masked;
    this.redact = masked ? redactNumbers : (text) => text;
    const { maxCalls: _default, leaseMs: _lease, ...defaults } = SIDEBAND_DEFAULTS;
    void _default;
    void _lease;
    this.sessionOptions = { ...defaults, ...definedOnly(rest) };
  }

  /**
   * At start-up and every third of the lease: renews the leases of this instance's sidebands
   * (one statement for all) and adopts the calls whose owner's lease expired (a dead instance,
   * or this one before a restart), as many as `maxCalls` leaves room for.
   */
  onApplicationBootstrap(): void {
    if (!this.apiKey) return;
    this.tend();
    this.leaseTimer = setInterval(() => this.tend(), Math.max(100, Math.floor(this.leaseMs / 3)));
    this.leaseTimer.unref();
  }

  private tend(): void {
    if (this.tending || this.stopping) return;
    this.tending = (async () => {
      try {
        await this.renew();
        await this.adoptExpired();
      } catch (error) {
        this.logger.error(`sideband leases: ${(error as Error).message}`);
      } finally {
        this.tending = undefined;
      }
    })();
  }

  /** The leases of `callIds` held for `leaseMs` more (see `CallStore.holdSidebands`). */
  private hold(callIds: string[], leaseMs: number | null): Promise<string[]> {
    return this.store.holdSidebands?.(this.holder, callIds, leaseMs) ?? Promise.resolve(callIds);
  }

  private async renew(): Promise<void> {
    const mine = [...this.sessions.keys()];
    if (mine.length === 0) return;
    const held = new Set(await this.hold(mine, this.leaseMs));
    for (const callId of mine) {
      const session = this.sessions.get(callId);
      if (held.has(callId) || !session || session.isFinished) continue;
      // This instance was away longer than its lease (a long pause): another adopted the call.
      this.logger.warn(`call ${callId}: sideband adopted by another instance; letting go`);
      await session.detach(true);
    }
  }

  private async adoptExpired(): Promise<void> {
    const room = this.maxCalls - this.sessions.size - this.reserved;
    if (room <= 0 || !this.store.adoptSidebands) return;
    for (const record of await this.store.adoptSidebands(this.holder, this.leaseMs, room)) {
      if (this.stopping) await this.hold([record.call_id], 0);
      else this.startAdopted(record);
    }
  }

  /** A call whose sideband another instance held: reopened here, nothing said or run twice. */
  private startAdopted(record: CallRecord): void {
    const surface = record.surface ?? 'realtime';
    const from = record.sideband?.owner ?? 'unknown';
    this.logger.log(`call ${record.call_id}: adopting its sideband from ${from}`);
    const { answered_at, sideband, transcript, tool_calls, dtmf, transfers, ended } = record;
    const journal = new CallJournal(
      this.store,
      (type, data) => this.outcomes.publish(type, data),
      record.call_id,
      surface,
      { answered_at, sideband, transcript, tool_calls, dtmf, transfers, ended },
    );
    const facts = deriveCallFacts(record.call_id, record.sip_headers);
    this.holds.set(record.call_id, Promise.resolve());
    this.open(record, surface, facts, journal, answered_at ?? new Date().toISOString(), from);
  }

  /** Sidebands open on this instance now. */
  get openCount(): number {
    return this.sessions.size;
  }

  /**
   * The accept as it is sent: the session config gains the declarations of the tools the rule
   * offers (Realtime: `session.tools`; Live: `delegation.responses.tools`), and a Realtime
   * session that keeps transcripts transcribes the caller's words unless it says how already.
   */
  prepareAccept(surface: SurfaceName, request: ControlRequest, decision: Decision): ControlRequest {
    if (request.type !== 'accept' || decision.action.type !== 'accept') return request;
    const behaviour: CallBehaviour = decision.action;
    const names = behaviour.call_tools ?? [];
    const declared = names.length > 0 && this.runner ? this.runner.declarations(names) : [];
    let session = request.session;
    if (declared.length > 0) session = withTools(surface, session, declared);
    if (behaviour.transcripts && surface === 'realtime') session = withTranscription(session);
    return session === request.session ? request : { ...request, session };
  }

  /**
   * What the record of a call whose accept succeeded gains, to be written with its settlement
   * (`CallStore.update`, in one statement with the status and the sideband lease): when it was
   * answered, and its sideband's state, `connecting`, or `not_opened` when this instance holds
   * `maxCalls` already. Undefined: nothing to add (a dry run, or not an accept). A sideband's
   * room is kept for the call from here: `answered` or `cancelAnswer` must follow.
   */
  prepareAnswer(record: CallRecord): PreparedAnswer | undefined {
    if (!this.apiKey || record.decision.action.type !== 'accept') return undefined;
    const full = this.sessions.size + this.reserved >= this.maxCalls;
    if (!full) this.reserved++;
    return {
      callId: record.call_id,
      full,
      fields: {
        answered_at: new Date().toISOString(),
        sideband: full
          ? {
              state: 'not_opened',
              owner: this.owner,
              reconnects: 0,
              note: `not opened: this instance holds its limit of ${this.maxCalls} sideband(s) (SIDEBAND_MAX_CALLS); the call was answered without greeting, tools or transcripts`,
            }
          : { state: 'connecting', owner: this.owner, reconnects: 0 },
      },
      hold: full ? undefined : { holder: this.holder, leaseMs: this.leaseMs },
    };
  }

  /** The settlement that was to carry `prepared` was not written: its room is given back. */
  cancelAnswer(prepared: PreparedAnswer): void {
    if (!prepared.full && !prepared.released) {
      prepared.released = true;
      this.reserved--;
    }
  }

  /**
   * The call was answered (the accept succeeded): publishes `call.answered` and opens its
   * sideband unless this instance holds `maxCalls` already (the call goes on without one; the
   * record says why). `written`: what `prepareAnswer` gave, already in the record with the
   * call's lease (the usual way); without it, they are written here.
   */
  async answered(
    record: CallRecord,
    surface: SurfaceName,
    facts: CallFacts | undefined,
    written?: PreparedAnswer,
  ): Promise<void> {
    const prepared = written ?? this.prepareAnswer(record);
    if (!prepared) return;
    this.cancelAnswer(prepared); // the session (if any) is counted from here on
    const { full, fields } = prepared;
    const answeredAt = fields.answered_at!;
    const callId = record.call_id;
    const journal = new CallJournal(
      this.store,
      (type, data) => this.outcomes.publish(type, data),
      callId,
      surface,
      written ? fields : {},
    );
    const surfaceCallId = record.surfaces[surface]?.id ?? callId;
    if (!written) journal.change(fields);
    journal.publish(CALL_EVENTS.answered, {
      surface_call_id: surfaceCallId,
      rule: record.decision.rule,
      sideband: full ? 'not_opened' : 'connecting',
    });
    if (full) {
      this.logger.warn(
        `call ${callId}: answered without a sideband: ${this.maxCalls} are open (SIDEBAND_MAX_CALLS)`,
      );
      await journal.settled();
      return;
    }
    // Held from now: should this instance die before its next renewal, another adopts the call.
    const held = written
      ? Promise.resolve()
      : this.hold([callId], this.leaseMs).then(
          () => undefined,
          (error: unknown) =>
            this.logger.error(`call ${callId}: sideband lease: ${(error as Error).message}`),
        );
    this.holds.set(callId, held);
    this.open(record, surface, facts, journal, answeredAt);
    await held;
  }

  private open(
    record: CallRecord,
    surface: SurfaceName,
    facts: CallFacts | undefined,
    journal: CallJournal,
    answeredAt: string,
    adoptedFrom?: string,
  ): void {
    const callId = record.call_id;
    const session = new SidebandSession(
      {
        call_id: callId,
        surface_call_id: record.surfaces[surface]?.id ?? callId,
        from: facts ? firstOf(facts, 'caller') : undefined,
        to: facts ? firstOf(facts, 'called') : undefined,
        sip_headers: record.sip_headers,
        rule: record.decision.rule ?? undefined,
        behaviour: record.decision.action as CallBehaviour,
        answered_at: answeredAt,
        adopted_from: adoptedFrom,
      },
      {
        protocol: PROTOCOLS[surface],
        apiKey: this.apiKey!,
        baseURL: this.baseURL,
        journal,
        runner: this.runner,
        options: this.sessionOptions,
        owner: this.owner,
        redact: this.redact,
        redacting: this.redacting,
        onFinished: (ended) => {
          if (this.sessions.get(callId) === session) this.sessions.delete(callId);
          this.ended.set(callId, session);
          if (this.ended.size > RECENTLY_ENDED)
            this.ended.delete(this.ended.keys().next().value as string);
          // The call is over: nothing for anyone to adopt (after the first hold, should the
          // call end before it is written).
          const held = this.holds.get(callId) ?? Promise.resolve();
          this.holds.delete(callId);
          if (ended)
            void held
              .then(() => this.hold([callId], null))
              .catch((error: unknown) =>
                this.logger.error(`call ${callId}: sideband lease: ${(error as Error).message}`),
              );
        },
      },
    );
    this.sessions.set(callId, session);
    session.start();
  }

  /**
   * An operator or a tool hung up or transferred the call: recorded as a transfer
   * (`call.transferred`), and the sideband's close that follows is that end, not an inferred one.
   */
  noteAction(
    callId: string,
    request: Extract<ControlRequest, { type: 'hangup' } | { type: 'refer' }>,
    outcome: ControlOutcome | undefined,
    by: 'operator' | 'tool' = 'operator',
  ): void {
    const session = this.sessions.get(callId) ?? this.ended.get(callId);
    if (!session || !outcome) return;
    if (request.type === 'refer') {
      session.noteTransfer({
        at: new Date().toISOString(),
        target_uri: request.target_uri,
        by,
        outcome,
      });
    } else if (outcome.ok) session.noteEnding('we_hung_up');
  }

  /** An operator's text into the call's conversation, through the sideband this process holds. */
  message(callId: string, text: string): { sent: true } | { refused: MessageRefusal } {
    if (!this.apiKey) return { refused: 'dry_run' };
    const session = this.sessions.get(callId);
    if (!session || !session.say(text)) return { refused: 'not_here' };
    return { sent: true };
  }

  /**
   * Shutdown: every socket closed cleanly and recorded; the calls themselves go on, and their
   * leases are let go at once, so another instance adopts them without waiting for expiry.
   */
  async closeAll(): Promise<void> {
    this.stopping = true;
    clearInterval(this.leaseTimer);
    await this.tending;
    const open = [...this.sessions.entries()];
    const firstHolds = open.map(([callId]) => this.holds.get(callId));
    if (open.length > 0) this.logger.log(`closing ${open.length} sideband(s) on shutdown`);
    await Promise.all(open.map(([, session]) => session.detach()));
    this.sessions.clear();
    if (open.length === 0) return;
    try {
      // A call answered a moment ago: its first lease write must not land after the release.
      await Promise.all(firstHolds);
      await this.hold(
        open.map(([callId]) => callId),
        0,
      );
    } catch (error) {
      this.logger.error(`sideband leases not let go: ${(error as Error).message}`);
    }
  }
}

function firstOf(facts: CallFacts, role: 'caller' | 'called'): string | undefined {
  return addressPart(facts, role, 'number')[0] ?? addressPart(facts, role, 'uri')[0];
}

function withTools(
  surface: SurfaceName,
  session: Record<string, unknown>,
  declared: unknown[],
): Record<string, unknown> {
  const merge = (existing: unknown) => [...(Array.isArray(existing) ? existing : []), ...declared];
  if (surface === 'realtime') return { ...session, tools: merge(session.tools) };
  const delegation = (session.delegation ?? { type: 'responses' }) as Record<string, unknown>;
  const responses = (delegation.responses ?? {}) as Record<string, unknown>;
  return {
    ...session,
    delegation: { ...delegation, responses: { ...responses, tools: merge(responses.tools) } },
  };
}

function withTranscription(session: Record<string, unknown>): Record<string, unknown> {
  const audio = (session.audio ?? {}) as Record<string, unknown>;
  const input = (audio.input ?? {}) as Record<string, unknown>;
  if (input.transcription !== undefined) return session;
  return {
    ...session,
    audio: { ...audio, input: { ...input, transcription: DEFAULT_INPUT_TRANSCRIPTION } },
  };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, item]) => item !== undefined),
  ) as Partial<T>;
}
