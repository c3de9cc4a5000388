// The shapes the console reads from the admin API, as the service writes them (see
// src/calls/store/call-store.ts and the shared contract for the call after answer). Written
// out here, not imported, so the browser bundle never depends on server code.

export type SurfaceName = 'realtime' | 'live';
export type CallStatus = 'waiting' | 'acting' | 'completed' | 'dry_run' | 'caller_gone' | 'failed';

export interface ControlOutcome {
  ok: boolean;
  status?: number;
  attempts: number;
  error?: string;
  duration_ms: number;
}

export interface OperatorAction {
  action: 'hangup' | 'refer' | 'message';
  target_uri?: string;
  text?: string;
  at: string;
  surface?: SurfaceName;
  outcome: ControlOutcome | { dry_run: true };
}

export interface SurfaceArrival {
  id: string;
  event_type: string;
  event_id: string;
  event_seq: number;
  received_at: string;
  after_first_ms: number;
  sip_media_security?: string;
  paired_by?: 'sip_call_id' | 'shared_id';
}

export type RenderedAction =
  | {
      type: 'accept';
      session?: Record<string, unknown>;
      sessions?: Record<string, unknown>;
      prefer?: SurfaceName;
    }
  | { type: 'reject'; status_code: number }
  | { type: 'refer'; target_uri: string };

export interface Explanation {
  matched: string | null;
  rules_before: { rule: string; failed: string }[];
  skipped_by_index: number;
  error?: string;
}

export interface Decision {
  route: 'rule' | 'default' | 'on_error';
  rule: string | null;
  action: RenderedAction;
  captures: Record<string, string>;
  explanation: Explanation;
  rules_version: string;
}

export interface CallRecord {
  call_id: string;
  event_id: string;
  event_seq: number;
  sip_headers: { name: string; value: string }[];
  status: CallStatus;
  decision: Decision;
  openai: ControlOutcome | null;
  timings: {
    received_at: string;
    decided_after_ms: number;
    answered_after_ms?: number;
    waited_for_twin_ms?: number;
  };
  operator_actions: OperatorAction[];
  surfaces: Partial<Record<SurfaceName, SurfaceArrival>>;
  surface?: SurfaceName;
  pairing_note?: string;
  // The call after answer: present once the service records them.
  answered_at?: string;
  sideband?: {
    state: 'connecting' | 'open' | 'reconnecting' | 'closed' | 'not_opened';
    owner?: string;
    reconnects: number;
    opened_at?: string;
    closed_at?: string;
    note?: string;
  };
  transcript?: { at: string; speaker: 'caller' | 'agent' | 'operator'; text: string }[];
  tool_calls?: {
    tool_call_id: string;
    name: string;
    arguments: unknown;
    output?: string;
    outcome: 'ok' | 'invalid_arguments' | 'unknown_tool' | 'error' | 'timeout' | 'running';
    started_at: string;
    duration_ms?: number;
  }[];
  dtmf?: { at: string; digits: string }[];
  transfers?: { at: string; target_uri: string; by: 'tool' | 'operator'; outcome?: unknown }[];
  ended?: {
    at: string;
    reason:
      | 'caller_hung_up'
      | 'we_hung_up'
      | 'transferred'
      | 'session_expired'
      | 'connection_lost'
      | 'unknown';
    inferred: boolean;
    duration_ms?: number;
    detail?: string;
  };
}

export interface EventSummary {
  seq: number;
  id: string;
  webhook_id: string;
  type: string;
  source: 'openai' | 'switchboard';
  received_at: string;
}

export interface HandlerRun {
  handler: string;
  status: string;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: number | null;
  updatedAt: number;
}

export interface EventDetail extends EventSummary {
  payload: unknown;
  handlers: HandlerRun[];
}

export interface RuleProblem {
  path: string;
  message: string;
}

export interface RulesDocument {
  version: string;
  source: string;
  file?: boolean;
  loaded_at: string;
  warnings: string[];
  last_refused_edit?: unknown;
  document: { rules: { id: string }[]; [key: string]: unknown };
}

/** What POST /rules/evaluate answers: a decision, and where it goes. */
export interface EvaluateAnswer extends Decision {
  surface?: SurfaceName;
  request?: unknown;
  warnings: string[];
}
