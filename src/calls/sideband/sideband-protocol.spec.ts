import { liveProtocol } from './live.protocol';
import { realtimeProtocol } from './realtime.protocol';

describe('sideband protocols', () => {
  it('derive the WebSocket URL from the API base URL, the id escaped', () => {
    expect(realtimeProtocol.url('https://api.openai.com/v1', 'rtc_1')).toBe(
      'wss://api.openai.com/v1/realtime?call_id=rtc_1',
    );
    expect(liveProtocol.url('http://127.0.0.1:8080/v1/', 'live_1/x')).toBe(
      'ws://127.0.0.1:8080/v1/live/sessions/live_1%2Fx/attach',
    );
  });

  it('Realtime: reads transcripts, function calls, DTMF and errors; ignores the rest', () => {
    const read = realtimeProtocol.read;
    expect(
      read({ type: 'conversation.item.input_audio_transcription.completed', transcript: 'Hi' }),
    ).toEqual([{ kind: 'transcript', speaker: 'caller', text: 'Hi' }]);
    expect(
      read({ type: 'response.function_call_arguments.done', call_id: 'c1', name: 'f' }),
    ).toEqual([{ kind: 'function_call', tool_call_id: 'c1', name: 'f', arguments: '{}' }]);
    expect(read({ type: 'response.function_call_arguments.done', name: 'f' })).toEqual([]);
    expect(read({ type: 'input_audio_buffer.dtmf_event_received', event: '#' })).toEqual([
      { kind: 'dtmf', digits: '#' },
    ]);
    expect(read({ type: 'error', error: { code: 'x', message: 'bad' } })).toEqual([
      { kind: 'error', code: 'x', message: 'bad' },
    ]);
    expect(read({ type: 'session.updated' })).toEqual([]);
  });

  it('Live: maps session.closed reasons to how the call ended; reads wrapped function calls', () => {
    const read = liveProtocol.read;
    expect(read({ type: 'session.closed', reason: 'expired' })).toEqual([
      { kind: 'closed', reason: 'session_expired', detail: 'expired' },
    ]);
    expect(read({ type: 'session.closed', reason: 'something_new' })).toEqual([
      { kind: 'closed', reason: 'unknown', detail: 'something_new' },
    ]);
    expect(
      read({
        type: 'response.event',
        event: { type: 'response.output_item.done', item: { type: 'message', call_id: 'c' } },
      }),
    ).toEqual([]);
    expect(read({ type: 'response.event', event: 'nonsense' })).toEqual([]);
  });

  it('say things in each surface own words', () => {
    expect(liveProtocol.toolOutput('c1', '{}')).toEqual([
      {
        type: 'response.item.create',
        item: { type: 'function_call_output', call_id: 'c1', output: '{}' },
      },
      { type: 'response.create' },
    ]);
    expect(liveProtocol.close()).toEqual([{ type: 'session.close' }]);
    expect(realtimeProtocol.greet('Hello')).toEqual([
      { type: 'response.create', response: { instructions: 'Hello' } },
    ]);
  });
});
