import type { CallRecord, RenderedAction } from './types';

export type BoardState = 'ringing' | 'talking' | 'ended';

const ok = (outcome: CallRecord['operator_actions'][number]['outcome']) =>
  'dry_run' in outcome || outcome.ok;

/**
 * Where a call stands, from its record alone: ringing while the decision is waiting or being
 * sent; talking once an accept went through (until it is recorded as ended, or an operator hung
 * up or transferred it); ended otherwise: rejected, referred, the caller gone, failed, or a dry
 * run (decided but never sent, so no call to talk on).
 */
export function callState(record: CallRecord): BoardState {
  if (record.ended) return 'ended';
  if (
    record.operator_actions.some(
      (action) => (action.action === 'hangup' || action.action === 'refer') && ok(action.outcome),
    )
  ) {
    return 'ended';
  }
  if (record.status === 'waiting' || record.status === 'acting') return 'ringing';
  if (record.status === 'completed' && record.decision.action.type === 'accept') return 'talking';
  return 'ended';
}

/**
 * Milliseconds the call has lasted since it rang: to its end when it ended, else to `now`. The
 * end is `ended.at`, not `ended.duration_ms` (which the service counts from the answer), so the
 * running clock stops where it was instead of jumping back when the call ends.
 */
export function callDuration(record: CallRecord, now: number): number {
  const start = Date.parse(record.timings.received_at);
  if (record.ended) return Math.max(0, Date.parse(record.ended.at) - start);
  const endedBy = record.operator_actions.find(
    (action) => (action.action === 'hangup' || action.action === 'refer') && ok(action.outcome),
  );
  if (endedBy) return Math.max(0, Date.parse(endedBy.at) - start);
  if (callState(record) === 'ended') {
    return record.timings.answered_after_ms ?? record.timings.decided_after_ms;
  }
  return Math.max(0, now - start);
}

export function formatDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const mmss = `${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  return h > 0 ? `${h}:${mmss}` : mmss;
}

/** The number (or user) of a From/To header: `"Alice" <sip:+14155550123@pbx>` → +14155550123. */
export function addressNumber(value: string | undefined): string {
  if (!value) return '';
  const match = /(?:sips?|tel):([^@;>\s]+)/i.exec(value);
  return match ? decodeURIComponent(match[1]) : value.trim();
}

export function header(record: CallRecord, name: string): string | undefined {
  const lower = name.toLowerCase();
  return record.sip_headers.find((h) => h.name.toLowerCase() === lower)?.value;
}

export function caller(record: CallRecord): string {
  return addressNumber(header(record, 'From') ?? header(record, 'f'));
}

export function called(record: CallRecord): string {
  return addressNumber(header(record, 'To') ?? header(record, 't'));
}

/** `rule vip-support` / `default` / `on_error`. */
export function routeLabel(record: CallRecord): string {
  return record.decision.route === 'rule'
    ? (record.decision.rule ?? 'rule')
    : record.decision.route;
}

export function actionLabel(action: RenderedAction): string {
  if (action.type === 'reject') return `reject ${action.status_code}`;
  if (action.type === 'refer') return `refer ${action.target_uri}`;
  return 'accept';
}

/** The surfaces that announced the call, first arrival first. */
export function surfacesInOrder(record: CallRecord): ('realtime' | 'live')[] {
  return (Object.entries(record.surfaces) as ['realtime' | 'live', { after_first_ms: number }][])
    .sort((a, b) => a[1].after_first_ms - b[1].after_first_ms)
    .map(([name]) => name);
}

export function surfaceLabel(record: CallRecord): string {
  const all = surfacesInOrder(record);
  const chosen = record.surface ?? all[0] ?? '';
  return all.length > 1 ? `${chosen} (twins: ${all.join(' + ')})` : chosen;
}
