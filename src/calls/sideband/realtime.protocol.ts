import {
  ClientEvent,
  SidebandEvent,
  SidebandProtocol,
  text,
  webSocketBase,
} from './sideband-protocol';

/**
 * The Realtime sideband: `wss://api.openai.com/v1/realtime?call_id=rtc_...`, the Realtime API's
 * own events. It has no "call ended" event: the socket closes when the caller hangs up.
 */
export const realtimeProtocol: SidebandProtocol = {
  surface: 'realtime',

  url: (baseURL, id) => `${webSocketBase(baseURL)}/realtime?call_id=${encodeURIComponent(id)}`,

  read(message): SidebandEvent[] {
    switch (message.type) {
      case 'conversation.item.input_audio_transcription.completed': {
        const said = text(message.transcript);
        return said ? [{ kind: 'transcript', speaker: 'caller', text: said }] : [];
      }
      case 'response.output_audio_transcript.delta': {
        const said = text(message.delta);
        const key = text(message.item_id);
        return said ? [{ kind: 'transcript_delta', speaker: 'agent', text: said, key }] : [];
      }
      case 'response.output_audio_transcript.done': {
        const said = text(message.transcript);
        const key = text(message.item_id);
        return said !== undefined
          ? [{ kind: 'transcript', speaker: 'agent', text: said, key }]
          : [];
      }
      case 'response.function_call_arguments.done': {
        const id = text(message.call_id);
        const name = text(message.name);
        if (!id || !name) return [];
        return [
          {
            kind: 'function_call',
            tool_call_id: id,
            name,
            arguments: text(message.arguments) ?? '{}',
          },
        ];
      }
      case 'input_audio_buffer.dtmf_event_received': {
        const digits = text(message.event) ?? text(message.digit) ?? text(message.digits);
        return digits ? [{ kind: 'dtmf', digits }] : [];
      }
      case 'error':
        return [errorOf(message)];
      default:
        return [];
    }
  },

  greet: (instructions): ClientEvent[] => [{ type: 'response.create', response: { instructions } }],

  toolOutput: (toolCallId, output): ClientEvent[] => [
    {
      type: 'conversation.item.create',
      item: { type: 'function_call_output', call_id: toolCallId, output },
    },
    { type: 'response.create' },
  ],

  operatorMessage: (said): ClientEvent[] => [
    {
      type: 'conversation.item.create',
      item: { type: 'message', role: 'system', content: [{ type: 'input_text', text: said }] },
    },
    { type: 'response.create' },
  ],

  close: () => [],
};

export function errorOf(message: Record<string, unknown>): SidebandEvent {
  const error = (message.error ?? {}) as Record<string, unknown>;
  return {
    kind: 'error',
    message: text(error.message) ?? text(message.message) ?? 'error event without a message',
    code: text(error.code) ?? text(error.type),
  };
}
