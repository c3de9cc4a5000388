import { actionLabel } from './call-state';
import type { CallRecord } from './types';

export type TimelineKind =
  | 'announced'
  | 'decided'
  | 'control'
  | 'answered'
  | 'sideband'
  | 'transcript'
  | 'tool'
  | 'dtmf'
  | 'transfer'
  | 'operator'
  | 'ended';

/** One line of a call's story: when, what, and the details under it. */
export interface TimelineEntry {
  at: number;
  kind: TimelineKind;
  title: string;
  details: string[];
  /** `bad` for failures, `quiet` for context; shown, never only by colour. */
  tone?: 'bad' | 'quiet';
}

const time = (iso: string) => Date.parse(iso);

/**
 * Everything recorded about a call, in the order it happened: its announcements (both twins),
 * the decision with the per-rule explanation, the control request and OpenAI's answer, and,
 * when the service records them, the call after answer (transcript, tools, DTMF, transfers, the
 * sideband, the end) and the operators' actions.
 */
export function buildTimeline(record: CallRecord): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  const start = time(record.timings.received_at);
  for (const [surface, arrival] of Object.entries(record.surfaces)) {
    if (!arrival) continue;
    entries.push({
      at: time(arrival.received_at),
      kind: 'announced',
      title: `Announced on ${surface} as ${arrival.id}`,
      details: [
        `${arrival.event_type}, event ${arrival.event_id} (#${arrival.event_seq})`,
        ...(arrival.after_first_ms > 0 ? [`${arrival.after_first_ms} ms after the first`] : []),
        ...(arrival.paired_by ? [`twin paired by ${arrival.paired_by.replace(/_/g, ' ')}`] : []),
        ...(arrival.sip_media_security ? [`media: ${arrival.sip_media_security}`] : []),
      ],
    });
  }
  const decision = record.decision;
  const explanation = decision.explanation;
  entries.push({
    at: start + record.timings.decided_after_ms,
    kind: 'decided',
    title:
      decision.route === 'rule'
        ? `Decided by rule ${decision.rule}: ${actionLabel(decision.action)}`
        : `Decided by the ${decision.route === 'default' ? 'default action' : 'on_error action'}: ${actionLabel(decision.action)}`,
    details: [
      ...explanation.rules_before.map(
        (failure) => `rule ${failure.rule} did not match: ${failure.failed}`,
      ),
      ...(explanation.skipped_by_index > 0
        ? [`${explanation.skipped_by_index} rule(s) ruled out by the index without evaluating them`]
        : []),
      ...(explanation.error ? [`error: ${explanation.error}`] : []),
      ...Object.entries(decision.captures).map(([name, value]) => `captured ${name} = ${value}`),
      ...(record.timings.waited_for_twin_ms !== undefined
        ? [`waited ${record.timings.waited_for_twin_ms} ms for the twin`]
        : []),
      ...(record.pairing_note ? [record.pairing_note] : []),
      `rules version ${decision.rules_version}`,
    ],
    tone: decision.route === 'on_error' ? 'bad' : undefined,
  });
  entries.push(controlEntry(record, start));
  if (record.answered_at) {
    entries.push({
      at: time(record.answered_at),
      kind: 'answered',
      title: 'Answered',
      details: [],
    });
  }
  const sideband = record.sideband;
  if (sideband) {
    const details = [
      // Once closed, the close has its own line: "state closed" under "opened" only confuses.
      ...(sideband.closed_at ? [] : [`state ${sideband.state}`]),
      ...(sideband.owner ? [`owner ${sideband.owner}`] : []),
      ...(sideband.reconnects > 0 ? [`${sideband.reconnects} reconnect(s)`] : []),
      ...(sideband.note ? [sideband.note] : []),
    ];
    entries.push({
      at: sideband.opened_at
        ? time(sideband.opened_at)
        : start + record.timings.decided_after_ms + 1,
      kind: 'sideband',
      title: sideband.opened_at
        ? 'Sideband connection opened'
        : `Sideband ${sideband.state.replace('_', ' ')}`,
      details,
      tone: sideband.state === 'not_opened' ? 'bad' : 'quiet',
    });
    if (sideband.closed_at) {
      entries.push({
        at: time(sideband.closed_at),
        kind: 'sideband',
        title: 'Sideband closed',
        details: [],
        tone: 'quiet',
      });
    }
  }
  for (const turn of record.transcript ?? []) {
    entries.push({
      at: time(turn.at),
      kind: 'transcript',
      title: `${capitalise(turn.speaker)}: ${turn.text}`,
      details: [],
    });
  }
  for (const call of record.tool_calls ?? []) {
    entries.push({
      at: time(call.started_at),
      kind: 'tool',
      title: `Tool ${call.name}: ${call.outcome.replace('_', ' ')}`,
      details: [
        `arguments ${JSON.stringify(call.arguments)}`,
        ...(call.output !== undefined ? [`output ${call.output}`] : []),
        ...(call.duration_ms !== undefined ? [`${call.duration_ms} ms`] : []),
      ],
      tone: call.outcome === 'ok' || call.outcome === 'running' ? undefined : 'bad',
    });
  }
  for (const press of record.dtmf ?? []) {
    entries.push({ at: time(press.at), kind: 'dtmf', title: `DTMF ${press.digits}`, details: [] });
  }
  for (const transfer of record.transfers ?? []) {
    entries.push({
      at: time(transfer.at),
      kind: 'transfer',
      title: `Transferred to ${transfer.target_uri} (by ${transfer.by})`,
      details:
        transfer.outcome === undefined ? [] : [`outcome ${JSON.stringify(transfer.outcome)}`],
    });
  }
  for (const action of record.operator_actions) {
    const outcome = action.outcome;
    const failed = !('dry_run' in outcome) && !outcome.ok;
    const what =
      action.action === 'hangup'
        ? 'hung up'
        : action.action === 'refer'
          ? `transferred to ${action.target_uri}`
          : `sent a message: “${action.text ?? ''}”`;
    entries.push({
      at: time(action.at),
      kind: 'operator',
      title: `Operator ${what}${failed ? ' (failed)' : ''}`,
      details: [
        'dry_run' in outcome
          ? 'dry run: not sent to OpenAI'
          : action.action === 'message' && outcome.ok && outcome.status === undefined
            ? 'sent through the call’s sideband'
            : describeOutcome(outcome),
        ...(action.surface ? [`on ${action.surface}`] : []),
      ],
      tone: failed ? 'bad' : undefined,
    });
  }
  if (record.ended) {
    const ended = record.ended;
    entries.push({
      at: time(ended.at),
      kind: 'ended',
      title: `Ended: ${ended.reason.replace(/_/g, ' ')}${ended.inferred ? ' (inferred)' : ''}`,
      details: [
        ...(ended.duration_ms !== undefined
          ? [`lasted ${Math.round(ended.duration_ms / 1000)} s`]
          : []),
        ...(ended.detail ? [ended.detail] : []),
      ],
    });
  }
  // Stable: entries at the same moment keep the order above (announced, decided, sent...).
  return entries
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => a.entry.at - b.entry.at || a.index - b.index)
    .map(({ entry }) => entry);
}

function controlEntry(record: CallRecord, start: number): TimelineEntry {
  const at = start + (record.timings.answered_after_ms ?? record.timings.decided_after_ms);
  const what = actionLabel(record.decision.action);
  switch (record.status) {
    case 'waiting':
      return {
        at,
        kind: 'control',
        title: `Waiting for the twin before sending ${what}`,
        details: [],
      };
    case 'acting':
      return { at, kind: 'control', title: `Sending ${what} to OpenAI`, details: [] };
    case 'dry_run':
      return {
        at,
        kind: 'control',
        title: `Not sent (dry run): ${what}`,
        details: ['no OPENAI_API_KEY'],
        tone: 'quiet',
      };
    case 'caller_gone':
      return {
        at,
        kind: 'control',
        title: `The caller hung up before the ${what} reached OpenAI`,
        details: record.openai ? [describeOutcome(record.openai)] : [],
      };
    case 'failed':
      return {
        at,
        kind: 'control',
        title: `The ${what} failed`,
        details: record.openai ? [describeOutcome(record.openai)] : [],
        tone: 'bad',
      };
    default:
      return {
        at,
        kind: 'control',
        title: `OpenAI confirmed the ${what}${record.surface ? ` on ${record.surface}` : ''}`,
        details: record.openai ? [describeOutcome(record.openai)] : [],
      };
  }
}

function describeOutcome(outcome: {
  ok: boolean;
  status?: number;
  attempts: number;
  error?: string;
  duration_ms: number;
}): string {
  const status = outcome.status === undefined ? 'no HTTP answer' : `HTTP ${outcome.status}`;
  return `${status}, ${outcome.attempts} attempt(s), ${outcome.duration_ms} ms${outcome.error ? `: ${outcome.error}` : ''}`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
