import { callDuration, callState } from './call-state';
import { buildTimeline } from './timeline';
import type { CallRecord } from './types';

const at = (ms: number) => new Date(Date.UTC(2026, 10, 25, 8, 0, 0) + ms).toISOString();

/** A call as the service records it before the call after answer is recorded. */
function routedCall(): CallRecord {
  return {
    call_id: 'rtc_1',
    event_id: 'evt_1',
    event_seq: 7,
    sip_headers: [
      { name: 'From', value: '"Alice" <sip:+14155550123@pbx.example.com>;tag=1' },
      { name: 'To', value: '<sip:+18005550100@sip.api.openai.com>' },
    ],
    status: 'completed',
    decision: {
      route: 'rule',
      rule: 'support-office-hours',
      action: { type: 'accept', session: { model: 'gpt-realtime' } },
      captures: {},
      explanation: {
        matched: 'support-office-hours',
        rules_before: [{ rule: 'vip-support', failed: 'header X-Account-Tier is missing' }],
        skipped_by_index: 1,
      },
      rules_version: 'v1',
    },
    openai: { ok: true, status: 200, attempts: 1, duration_ms: 42 },
    timings: { received_at: at(0), decided_after_ms: 2, answered_after_ms: 44 },
    operator_actions: [],
    surfaces: {
      realtime: {
        id: 'rtc_1',
        event_type: 'realtime.call.incoming',
        event_id: 'evt_1',
        event_seq: 7,
        received_at: at(0),
        after_first_ms: 0,
      },
    },
    surface: 'realtime',
  };
}

describe('buildTimeline', () => {
  it('tells the decision with the per-rule explanation and the control outcome, in order', () => {
    const titles = buildTimeline(routedCall()).map((entry) => entry.title);
    expect(titles).toEqual([
      'Announced on realtime as rtc_1',
      'Decided by rule support-office-hours: accept',
      'OpenAI confirmed the accept on realtime',
    ]);
    const decided = buildTimeline(routedCall())[1];
    expect(decided.details).toContain(
      'rule vip-support did not match: header X-Account-Tier is missing',
    );
    expect(decided.details).toContain('1 rule(s) ruled out by the index without evaluating them');
  });

  it('puts the call after answer and the operators in the same timeline, by time', () => {
    const record: CallRecord = {
      ...routedCall(),
      answered_at: at(50),
      sideband: { state: 'closed', reconnects: 1, opened_at: at(60), closed_at: at(9000) },
      transcript: [
        { at: at(1000), speaker: 'agent', text: 'Hello, how can I help?' },
        { at: at(3000), speaker: 'caller', text: 'Where is my order?' },
      ],
      tool_calls: [
        {
          tool_call_id: 't1',
          name: 'lookup_order',
          arguments: { order: '42' },
          output: '{"status":"shipped"}',
          outcome: 'ok',
          started_at: at(4000),
          duration_ms: 12,
        },
      ],
      dtmf: [{ at: at(2000), digits: '1' }],
      transfers: [{ at: at(7000), target_uri: 'sip:desk@example.com', by: 'tool' }],
      operator_actions: [
        {
          action: 'message',
          text: 'Offer a refund',
          at: at(5000),
          outcome: { ok: true, attempts: 1, duration_ms: 3 },
        },
      ],
      ended: { at: at(8000), reason: 'transferred', inferred: false, duration_ms: 8000 },
    };
    const entries = buildTimeline(record);
    expect(entries.map((entry) => entry.kind)).toEqual([
      'announced',
      'decided',
      'control',
      'answered',
      'sideband',
      'transcript',
      'dtmf',
      'transcript',
      'tool',
      'operator',
      'transfer',
      'ended',
      'sideband',
    ]);
    const titles = entries.map((entry) => entry.title);
    expect(titles).toContain('Caller: Where is my order?');
    expect(titles).toContain('Tool lookup_order: ok');
    expect(titles).toContain('DTMF 1');
    expect(titles).toContain('Operator sent a message: “Offer a refund”');
    // A message goes through the sideband: no HTTP answer to report, and none is missing.
    const message = entries.find((entry) => entry.title.startsWith('Operator sent a message'));
    expect(message?.details).toEqual(['sent through the call’s sideband']);
    const opened = entries.find((entry) => entry.title === 'Sideband connection opened');
    expect(opened?.details).not.toContain('state closed');
    expect(titles).toContain('Transferred to sip:desk@example.com (by tool)');
    expect(titles).toContain('Ended: transferred');
    expect(callState(record)).toBe('ended');
    expect(callDuration(record, Date.now())).toBe(8000);
  });

  it('marks failures, and says when nothing was sent', () => {
    const failed = {
      ...routedCall(),
      status: 'failed' as const,
      openai: { ok: false, status: 500, attempts: 3, duration_ms: 400, error: 'boom' },
    };
    const control = buildTimeline(failed)[2];
    expect(control).toMatchObject({ title: 'The accept failed', tone: 'bad' });
    expect(control.details[0]).toBe('HTTP 500, 3 attempt(s), 400 ms: boom');
    expect(buildTimeline({ ...routedCall(), status: 'dry_run', openai: null })[2].title).toBe(
      'Not sent (dry run): accept',
    );
  });
});

describe('callState', () => {
  it('is ringing while the action is under way, talking once accepted, ended after a hang-up', () => {
    expect(callState({ ...routedCall(), status: 'acting' })).toBe('ringing');
    expect(callState(routedCall())).toBe('talking');
    const hungUp: CallRecord = {
      ...routedCall(),
      operator_actions: [
        { action: 'hangup', at: at(5000), outcome: { ok: true, attempts: 1, duration_ms: 3 } },
      ],
    };
    expect(callState(hungUp)).toBe('ended');
    expect(callDuration(hungUp, Date.now())).toBe(5000);
  });

  it('counts the duration from the ring and stops it at the recorded end', () => {
    const talking = { ...routedCall(), answered_at: at(200) };
    expect(callDuration(talking, Date.parse(at(4000)))).toBe(4000);
    // The service counts ended.duration_ms from the answer; the board's clock runs from the
    // ring, so it stops at the end instead of jumping back, however late it is read.
    const ended: CallRecord = {
      ...talking,
      ended: { at: at(6000), reason: 'caller_hung_up', inferred: true, duration_ms: 5800 },
    };
    expect(callState(ended)).toBe('ended');
    expect(callDuration(ended, Date.parse(at(60_000)))).toBe(6000);
  });
});
