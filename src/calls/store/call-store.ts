import type { CallEventAdjustments } from '../../realtime-call/dto/realtime-call-incoming.dto';
import type { StoreReadiness } from '../../common/store/store-health';
import { Decision } from '../rules/rule-set';

export type CallStatus =
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
  action: 'hangup' | 'refer';
  target_uri?: string;
  at: string;
  outcome: ControlOutcome | { dry_run: true };
}

/** Everything about one call: what arrived, what was decided and why, what OpenAI said. */
export interface CallRecord {
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
  };
  operator_actions: OperatorAction[];
}

export interface StoredRuleSet {
  document: unknown;
  version: string;
  updated_at: string;
}

/** Call records and the API-managed rule set. */
export interface CallStore {
  /** Creates the record unless one exists for the call: false means another delivery got it first. */
  create(record: CallRecord): Promise<boolean>;
  update(
    callId: string,
    patch: Partial<Pick<CallRecord, 'status' | 'openai' | 'timings' | 'operator_actions'>>,
  ): Promise<void>;
  get(callId: string): Promise<CallRecord | undefined>;
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
  /** Readiness, as `EventStore.checkReady`: whether a write can be made now, and if not, why. */
  checkReady(): Promise<StoreReadiness>;
  close(): Promise<void>;
}

export const CALL_STORE = Symbol('CALL_STORE');
