import type { CallEventAdjustments } from '../../realtime-call/dto/realtime-call-incoming.dto';
import type { StoreReadiness } from '../../common/store/store-health';
import { Decision } from '../rules/rule-set';
import type { SurfaceName } from '../surfaces/surface-name';
import type { Announcement } from '../twins/twin-matcher';

export type CallStatus =
  /**
   * Decided, for a surface whose announcement has not arrived yet: waiting (bounded by
   * `twinWaitMs`) for it. Nothing has been sent.
   */
  | 'waiting'
  /** Decided; the action is being sent to OpenAI. */
  | 'acting'
  /** OpenAI confirmed the action. */
  | 'completed'
  /** No OPENAI_API_KEY: decided and recorded, not sent. */
  | 'dry_run'
  /** OpenAI answered 404 call_id_not_found: the caller hung up before we answered. */
  | 'caller_gone'
  /** The action could not be carried out (after bounded retries). */
  | 'failed';

/** A decision's answer that came after the call was settled (see `CallRecord.late_outcome`). */
export interface LateOutcome {
  /** When it arrived (ISO). */
  at: string;
  /** The status it would have given the call. */
  status: CallStatus;
  /** What OpenAI answered; absent in a dry run. */
  outcome: ControlOutcome | null;
}

/** What OpenAI answered to the call-control request. */
export interface ControlOutcome {
  ok: boolean;
  /** HTTP status of the last attempt; absent for network errors and timeouts. */
  status?: number;
  attempts: number;
  error?: string;
  /** Milliseconds from the first attempt to the final answer. */
  duration_ms: number;
}

export interface OperatorAction {
  /** `message`: text put into the conversation of a call in progress (`text`). */
  action: 'hangup' | 'refer' | 'message';
  target_uri?: string;
  text?: string;
  at: string;
  /** The surface it was sent to: the one that answered the call. */
  surface?: SurfaceName;
  outcome: ControlOutcome | { dry_run: true };
  /** Who asked: absent for an operator (the admin API), `tool` for the built-in call tools. */
  by?: 'tool';
  /** Why, when the asker said (the model's `reason` argument of `transfer_call`/`end_call`). */
  reason?: string;
}

/** One surface's announcement of the call: its id there, and when and how it arrived. */
export interface SurfaceArrival {
  /** The call's id on this surface: `call_id` (Realtime) or `session_id` (Live). */
  id: string;
  /** `realtime.call.incoming`, `live.transport.incoming` or `live.call.incoming`. */
  event_type: string;
  event_id: string;
  event_seq: number;
  /** When its webhook arrived (ISO). */
  received_at: string;
  /** Milliseconds after the call's first announcement (0 for the first). */
  after_first_ms: number;
  /** `rtp`, `srtp`...: how the INVITE offered its media, when the event said. */
  sip_media_security?: string;
  /** How a twin was recognised: its SIP Call-ID (with From and To), or an id both surfaces share. */
  paired_by?: 'sip_call_id' | 'shared_id';
}

/**
 * Everything about one physical call: what arrived on which surface, what was decided and why,
 * what OpenAI said. Named by `call_id`, the id of its first announcement; found by either id.
 */
export interface CallRecord {
  /** The id of the call's first announcement (a Realtime `rtc_...` or a Live `live_...`). */
  call_id: string;
  event_id: string;
  event_seq: number;
  sip_headers: { name: string; value: string }[];
  /** What was cut from or replaced in an odd call event; absent when nothing was. */
  adjustments?: CallEventAdjustments;
  status: CallStatus;
  decision: Decision;
  openai: ControlOutcome | null;
  timings: {
    /** When the webhook arrived (ISO). */
    received_at: string;
    /** Arrival to decision, ms. */
    decided_after_ms: number;
    /** Arrival to OpenAI's answer, ms. */
    answered_after_ms?: number;
    /** How long the decision waited for the chosen surface's announcement, ms. */
    waited_for_twin_ms?: number;
  };
  operator_actions: OperatorAction[];
  /** Each surface's announcement of the call (one, or both twins). */
  surfaces: Partial<Record<SurfaceName, SurfaceArrival>>;
  /** The surface the decision was sent to (in a dry run: would have been); absent while waiting. */
  surface?: SurfaceName;
  /** Why an announcement that looked like a twin was routed as a call of its own. */
  pairing_note?: string;
  /**
   * OpenAI's answer to a decision's request that arrived after the call had been settled
   * without it: its sender's lease lapsed mid-send and another instance, taking the handler
   * run over, marked the call failed ("outcome unknown, not resent"). Kept as a note (what
   * OpenAI really did); the status and the lifecycle events stay as they were settled.
   */
  late_outcome?: LateOutcome;
  // The call after it is answered, written by the sideband session that owns it
  // (src/calls/sideband/); absent on calls that were not answered.
  /** When the accept succeeded (ISO). */
  answered_at?: string;
  sideband?: SidebandState;
  /** What was said, when the rule keeps transcripts (`transcripts: true`). */
  transcript?: TranscriptTurn[];
  tool_calls?: ToolCallRecord[];
  dtmf?: { at: string; digits: string }[];
  transfers?: TransferRecord[];
  ended?: CallEnding;
}

/** The sideband WebSocket of an answered call, as its owner last saw it. */
export interface SidebandState {
  state: 'connecting' | 'open' | 'reconnecting' | 'closed' | 'not_opened';
  /** The instance that holds it (`host:pid`). */
  owner?: string;
  reconnects: number;
  opened_at?: string;
  closed_at?: string;
  /** Why it is not open, or what went wrong (an `error` event, a refused reconnect). */
  note?: string;
  /** The instance that held it before this one adopted it (its owner had died or shut down). */
  adopted_from?: string;
  /** When this owner adopted it (ISO). */
  adopted_at?: string;
}

export interface TranscriptTurn {
  at: string;
  speaker: 'caller' | 'agent' | 'operator';
  text: string;
}

export interface ToolCallRecord {
  tool_call_id: string;
  name: string;
  arguments: unknown;
  /** The JSON text sent to the model. */
  output?: string;
  outcome: 'ok' | 'invalid_arguments' | 'unknown_tool' | 'error' | 'timeout' | 'running';
  started_at: string;
  duration_ms?: number;
}

export interface TransferRecord {
  at: string;
  target_uri: string;
  by: 'tool' | 'operator';
  outcome?: unknown;
}

export type CallEndReason =
  | 'caller_hung_up'
  | 'we_hung_up'
  | 'transferred'
  | 'session_expired'
  | 'connection_lost'
  | 'unknown';

export interface CallEnding {
  at: string;
  reason: CallEndReason;
  /** True when no event said so (Realtime has no end event): read from the socket closing. */
  inferred: boolean;
  /** From `answered_at` to the end. */
  duration_ms?: number;
  detail?: string;
}

/** What recording an announcement found (see `matchAnnouncement`). */
export type ClaimResult =
  /** The record was created: this announcement makes the call's one decision. */
  | { outcome: 'created' }
  /** The call was recorded before with the other surface's announcement: this one was added. */
  | { outcome: 'twin'; record: CallRecord }
  /** This very announcement was recorded before: a redelivery, or a handler resumed after a restart. */
  | { outcome: 'seen'; record: CallRecord };

/** The fields of a record its decision changes after it was created. */
export type CallRecordPatch = Partial<
  Pick<
    CallRecord,
    | 'status'
    | 'openai'
    | 'timings'
    | 'operator_actions'
    | 'decision'
    | 'surface'
    | 'pairing_note'
    | 'late_outcome'
    | 'answered_at'
    | 'sideband'
    | 'transcript'
    | 'tool_calls'
    | 'dtmf'
    | 'transfers'
    | 'ended'
  >
>;

/** A sideband lease taken with a record write (see `CallStore.update`). */
export interface SidebandHold {
  holder: string;
  leaseMs: number;
}

export interface StoredRuleSet {
  document: unknown;
  version: string;
  updated_at: string;
}

/** Call records and the API-managed rule set. */
export interface CallStore {
  /**
   * Records one announcement of a ringing call, atomically, keyed by the physical call: creates
   * `record` when the call is new; adds `arrival` to the existing record when the announcement
   * is the twin of a call recorded before (`matchAnnouncement` decides); changes nothing when
   * the announcement itself was recorded before. Of any number of concurrent announcements of
   * one call, across twins, redeliveries and restarts, exactly one gets `created`.
   */
  claim(
    record: CallRecord,
    announcement: Announcement,
    arrival: SurfaceArrival,
  ): Promise<ClaimResult>;
  /**
   * Changes the record named `callId`; with `expected`, only while its status is that one
   * (compare-and-set). False when there is no such record or its status differs. With `hold`,
   * the same write takes the call's sideband lease as `holdSidebands` would (when nobody else
   * holds it): an answered call is settled and held at once, with no moment between the two.
   */
  update(
    callId: string,
    patch: CallRecordPatch,
    expected?: CallStatus,
    hold?: SidebandHold,
  ): Promise<boolean>;
  /** The record of the call with this id on either surface (its name, or its twin's id). */
  get(id: string): Promise<CallRecord | undefined>;
  /** Adds an operator's action to the call's record atomically; the updated record. */
  appendOperatorAction(callId: string, action: OperatorAction): Promise<CallRecord | undefined>;
  /** Newest first; `before` is the cursor of the previous page. */
  list(query: {
    before?: number;
    limit: number;
    status?: CallStatus;
  }): Promise<{ records: CallRecord[]; cursor?: number }>;
  loadRuleSet(): Promise<StoredRuleSet | undefined>;
  /** Compare-and-swap: saves only if the stored version is `expected` (undefined: none stored). */
  saveRuleSet(document: unknown, version: string, expected: string | undefined): Promise<boolean>;
  /**
   * For a store that several instances share: calls `changed` soon after any instance saves a
   * rule set (and whenever a save may have been missed, such as after a lost connection), so
   * that each instance reloads it. Returns the function that stops the calls. A store that one
   * process owns has no other writer and leaves it out.
   */
  watchRuleSet?(changed: () => void): () => void;
  /**
   * Sideband leases, in one statement for all of `callIds`: each call whose lease `holder` holds
   * (or nobody holds yet) is held for `leaseMs` more from now (0: expired at once, for another
   * instance to adopt; null: dropped, the call ended and there is nothing to adopt). The ids
   * still held; a missing one was adopted by another instance meanwhile. A store without it (and
   * `adoptSidebands`) keeps no leases: its sidebands are not adopted when their owner dies.
   */
  holdSidebands?(holder: string, callIds: string[], leaseMs: number | null): Promise<string[]>;
  /**
   * Takes over, for `holder` and `leaseMs`, at most `limit` answered calls that have not ended
   * and whose sideband lease has expired (its holder died, or let go on shutdown): a
   * compare-and-set, so of any number of instances adopting at once exactly one gets each call.
   * The records as they were before (their `sideband.owner` is the previous owner).
   */
  adoptSidebands?(holder: string, leaseMs: number, limit: number): Promise<CallRecord[]>;
  /** Readiness, as `EventStore.checkReady`: whether a write can be made now, and if not, why. */
  checkReady(): Promise<StoreReadiness>;
  close(): Promise<void>;
}

export const CALL_STORE = Symbol('CALL_STORE');
