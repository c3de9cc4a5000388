import type { CallEndReason } from '../store/call-store';
import { errorOf } from './realtime.protocol';
import {
  ClientEvent,
  SidebandEvent,
  SidebandProtocol,
  text,
  webSocketBase,
} from './sideband-protocol';

/** `session.closed`'s `reason`, as the call record says it. */
const CLOSED_REASONS: Record<string, CallEndReason> = {
  remote_hangup: 'caller_hung_up',
  close_requested: 'we_hung_up',
  expired: 'session_expired',
  connection_lost: 'connection_lost',
  transferred: 'transferred',
  referred: 'transferred',
};

/**
 * The Live sideband: `wss://api.openai.com/v1/live/sessions/{id}/attach`. Transcripts come as
 * deltas; function calls arrive inside `response.event` (the delegation's Responses events);
 * `session.closed` ends the call with a reason.
 */
export const liveProtocol: SidebandProtocol = {
  surface: 'live',

  url: (baseURL, id) => `${webSocketBase(baseURL)}/live/sessions/${encodeURIComponent(id)}/attach`,

  read(message): SidebandEvent[] {
    switch (message.type) {
      case 'session.input_transcript.delta':
      case 'session.output_transcript.delta': {
        const said = text(message.delta);
        const speaker = message.type === 'session.input_transcript.delta' ? 'caller' : 'agent';
        return said ? [{ kind: 'transcript_delta', speaker, text: said }] : [];
      }
      case 'response.event':
        return functionCallIn(message);
      case 'transport.dtmf.received': {
        const digits = text(message.digits) ?? text(message.digit) ?? text(message.event);
        return digits ? [{ kind: 'dtmf', digits }] : [];
      }
      case 'session.closed': {
        const reason = text(message.reason) ?? 'unknown';
        return [{ kind: 'closed', reason: CLOSED_REASONS[reason] ?? 'unknown', detail: reason }];
      }
      case 'error':
        return [errorOf(message)];
      default:
        return [];
    }
  },

  greet: (instructions): ClientEvent[] => [{ type: 'session.instructions.append', instructions }],

  toolOutput: (toolCallId, output): ClientEvent[] => [
    {
      type: 'response.item.create',
      item: { type: 'function_call_output', call_id: toolCallId, output },
    },
    { type: 'response.create' },
  ],

  operatorMessage: (said): ClientEvent[] => [
    { type: 'session.instructions.append', instructions: said },
  ],

  close: (): ClientEvent[] => [{ type: 'session.close' }],
};

/**
 * A function call inside a wrapped Responses event: `response.output_item.done` with a
 * `function_call` item, or `response.function_call_arguments.done` naming the call and tool.
 * Either may come for one call; the session runs each `call_id` once.
 */
function functionCallIn(message: Record<string, unknown>): SidebandEvent[] {
  const inner = (message.event ?? message.data) as Record<string, unknown> | undefined;
  if (typeof inner !== 'object' || inner === null) return [];
  const fields =
    inner.type === 'response.output_item.done'
      ? ((inner.item ?? {}) as Record<string, unknown>)
      : inner.type === 'response.function_call_arguments.done'
        ? inner
        : undefined;
  if (!fields || (inner.type === 'response.output_item.done' && fields.type !== 'function_call'))
    return [];
  const id = text(fields.call_id);
  const name = text(fields.name);
  if (!id || !name) return [];
  return [
    { kind: 'function_call', tool_call_id: id, name, arguments: text(fields.arguments) ?? '{}' },
  ];
}
