import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallsHarness, Json } from './support/calls-harness';
import { FakeOpenAI } from './support/fake-openai';
import {
  liveAnnouncement,
  PhysicalCall,
  physicalCall,
  realtimeAnnouncement,
} from './support/twin-calls';

const LIVE = {
  model: 'gpt-live-1',
  instructions: 'You are the Live agent.',
  audio: { output: { voice: 'marin' } },
  delegation: {
    type: 'responses',
    responses: { model: 'gpt-5', tools: [{ type: 'function', name: 'lookup_order' }] },
  },
};
const REALTIME = { model: 'gpt-realtime', instructions: 'You are the Realtime agent.' };

/** A number per behaviour, as a team moving its numbers to Live rule by rule would have. */
const RULES = {
  version: 1,
  rules: [
    {
      id: 'prefers-live',
      when: { header: 'X-Line', equals: 'prefers-live' },
      action: { accept: { live: LIVE, realtime: REALTIME, prefer: 'live' } },
    },
    {
      id: 'live-only',
      when: { header: 'X-Line', equals: 'live-only' },
      action: { accept: { live: LIVE } },
    },
    {
      id: 'either',
      when: { header: 'X-Line', equals: 'either' },
      action: { accept: { live: LIVE, realtime: REALTIME } },
    },
    {
      id: 'offered-on-live',
      when: {
        all: [
          { header: 'X-Line', equals: 'by-surface' },
          { field: 'call.surfaces', equals: 'live' },
        ],
      },
      action: { accept: { live: LIVE } },
    },
    {
      id: 'srtp-only',
      when: {
        all: [
          { header: 'X-Line', equals: 'bank' },
          { not: { field: 'sip_media_security', equals: 'srtp' } },
        ],
      },
      action: { reject: { status_code: 488 } },
    },
    { id: 'realtime', action: { accept: REALTIME } },
  ],
};

const liveBody = { session: { type: 'live', ...LIVE } };
const realtimeBody = { type: 'realtime', ...REALTIME };

describe('rules choose the surface: accept on Live or Realtime, conditions on how the call was announced', () => {
  let fake: FakeOpenAI;
  let dir: string;
  let app: CallsHarness;

  beforeEach(async () => {
    fake = await FakeOpenAI.start();
    dir = mkdtempSync(join(tmpdir(), 'switchboard-surface-rules-'));
    app = new CallsHarness(dir, fake);
  });
  afterEach(async () => {
    await app.stop();
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function ringing(line: string, options: { sharedId?: boolean } = {}): PhysicalCall {
    const call = physicalCall({ extraHeaders: [{ name: 'X-Line', value: line }], ...options });
    fake.calls.offer({ realtime: call.realtimeId, live: call.liveId });
    return call;
  }
  const deliver = (delivery: ReturnType<typeof realtimeAnnouncement>) =>
    app.t.deliver(delivery).expect(200);
  const sent = () => fake.requests.map((r) => [r.path, r.body]);

  it('prefer live, Realtime first: waits for the Live twin and accepts once, on Live', async () => {
    await app.start({ rules: RULES });
    const call = ringing('prefers-live');
    await deliver(realtimeAnnouncement(call));
    await app.recordOf(call.realtimeId, 'waiting');
    await deliver(liveAnnouncement(call));
    const record = await app.recordOf(call.liveId, 'completed');
    await app.announcementsHandled(2);
    expect(sent()).toEqual([[`/v1/live/sessions/${call.liveId}/accept`, liveBody]]);
    expect(fake.calls.answeredOn(call.realtimeId)).toBe('live');
    expect(record).toMatchObject({
      call_id: call.realtimeId,
      surface: 'live',
      decision: { rule: 'prefers-live', action: { type: 'accept', prefer: 'live' } },
      timings: { waited_for_twin_ms: expect.any(Number) },
    });
  });

  it('prefer live, only the Realtime event arrives: waits out TWIN_WAIT_MS, then accepts on Realtime', async () => {
    await app.start({ rules: RULES, twinWaitMs: 150 });
    const call = ringing('prefers-live');
    await deliver(realtimeAnnouncement(call));
    const record = await app.recordOf(call.realtimeId, 'completed');
    expect(sent()).toEqual([[`/v1/realtime/calls/${call.realtimeId}/accept`, realtimeBody]]);
    expect(record).toMatchObject({
      surface: 'realtime',
      decision: { route: 'rule', rule: 'prefers-live' },
      timings: { waited_for_twin_ms: expect.any(Number) },
    });
  });

  it('prefer live, Live first: accepted on Live at once, and the Realtime twin changes nothing', async () => {
    await app.start({ rules: RULES });
    const call = ringing('prefers-live');
    await deliver(liveAnnouncement(call));
    const record = await app.recordOf(call.liveId, 'completed');
    expect(record.timings.waited_for_twin_ms).toBeUndefined();
    await deliver(realtimeAnnouncement(call));
    await app.announcementsHandled(2);
    expect(sent()).toEqual([[`/v1/live/sessions/${call.liveId}/accept`, liveBody]]);
  });

  it('a Live-only accept with only the Realtime event: on_error after the wait, on Realtime', async () => {
    await app.start({
      rules: { ...RULES, on_error: { reject: { status_code: 480 } } },
      twinWaitMs: 150,
    });
    const call = ringing('live-only');
    await deliver(realtimeAnnouncement(call));
    const record = await app.recordOf(call.realtimeId, 'completed');
    expect(sent()).toEqual([
      [`/v1/realtime/calls/${call.realtimeId}/reject`, { status_code: 480 }],
    ]);
    expect(record.decision).toMatchObject({
      route: 'on_error',
      explanation: {
        matched: 'live-only',
        error: 'the rule accepts on live, and the call was announced on realtime only',
      },
    });
  });

  it('an accept that gives both surfaces and prefers neither answers on the first announcement, never waiting', async () => {
    await app.start({ rules: RULES });
    const first = ringing('either');
    await deliver(liveAnnouncement(first));
    const second = ringing('either');
    await deliver(realtimeAnnouncement(second));
    await app.recordOf(first.liveId, 'completed');
    const record = await app.recordOf(second.realtimeId, 'completed');
    expect(record.timings.waited_for_twin_ms).toBeUndefined();
    expect(sent()).toEqual([
      [`/v1/live/sessions/${first.liveId}/accept`, liveBody],
      [`/v1/realtime/calls/${second.realtimeId}/accept`, realtimeBody],
    ]);
  });

  it('a condition on call.surfaces waits for the twin before deciding: it sees both surfaces', async () => {
    await app.start({ rules: RULES });
    const call = ringing('by-surface');
    await deliver(realtimeAnnouncement(call));
    await app.recordOf(call.realtimeId, 'waiting');
    await deliver(liveAnnouncement(call));
    const record = await app.recordOf(call.realtimeId, 'completed');
    expect(sent()).toEqual([[`/v1/live/sessions/${call.liveId}/accept`, liveBody]]);
    expect(record.decision.rule).toBe('offered-on-live');

    // Announced on Realtime alone, the same rule does not match once the wait is over.
    await app.stop();
    await app.start({ rules: RULES, twinWaitMs: 100 });
    const alone = ringing('by-surface');
    await deliver(realtimeAnnouncement(alone));
    const single = await app.recordOf(alone.realtimeId, 'completed');
    expect(single.decision.rule).toBe('realtime');
    expect(single.decision.explanation.rules_before).toContainEqual({
      rule: 'offered-on-live',
      failed: expect.stringContaining('call.surfaces is "realtime", expected "live"'),
    });
  });

  it('requires SRTP: the Live twin says srtp, so the call the Realtime event announced without it is accepted', async () => {
    await app.start({ rules: RULES });
    const bank = ringing('bank');
    await deliver(realtimeAnnouncement(bank));
    await app.recordOf(bank.realtimeId, 'waiting'); // sip_media_security not said yet
    await deliver(liveAnnouncement(bank, { sip_media_security: 'srtp' }));
    const record = await app.recordOf(bank.realtimeId, 'completed');
    expect(record.decision.rule).toBe('realtime');
    expect(record.surfaces.live.sip_media_security).toBe('srtp');

    const clear = ringing('bank');
    await deliver(liveAnnouncement(clear, { sip_media_security: 'rtp' }));
    const refused = await app.recordOf(clear.liveId, 'completed');
    expect(refused.decision.rule).toBe('srtp-only');
    expect(sent()).toEqual([
      [`/v1/realtime/calls/${bank.realtimeId}/accept`, realtimeBody],
      [`/v1/live/sessions/${clear.liveId}/reject`, { status_code: 488 }],
    ]);
  });

  it('operator actions on a call answered on Live go to Live, under its session id', async () => {
    await app.start({ rules: RULES });
    const call = ringing('prefers-live');
    await deliver(liveAnnouncement(call));
    await deliver(realtimeAnnouncement(call));
    await app.announcementsHandled(2);
    await app.recordOf(call.realtimeId, 'completed');
    await app
      .admin('post', `/calls/${call.realtimeId}/refer`)
      .send({ target_uri: 'tel:+14155550199' })
      .expect(200);
    const gone = await app.admin('post', `/calls/${call.realtimeId}/hangup`).expect(502);
    expect(JSON.stringify(gone.body)).toContain('call_id_not_found'); // the refer ended it
    expect(sent().slice(1)).toEqual([
      [`/v1/live/sessions/${call.liveId}/refer`, { target_uri: 'tel:+14155550199' }],
      [`/v1/live/sessions/${call.liveId}/hangup`, undefined],
    ]);
    const record = await app.recordOf(call.liveId, 'completed');
    expect(record.operator_actions.map((a: Json) => [a.action, a.surface])).toEqual([
      ['refer', 'live'],
      ['hangup', 'live'],
    ]);
  });

  it('a dry run (no API key) waits and settles the same way, and sends nothing', async () => {
    await app.start({ rules: RULES, apiKey: null });
    const call = ringing('prefers-live');
    await deliver(realtimeAnnouncement(call));
    await app.recordOf(call.realtimeId, 'waiting');
    await deliver(liveAnnouncement(call));
    const record = await app.recordOf(call.realtimeId, 'dry_run');
    expect(record.surface).toBe('live');
    expect(fake.requests).toHaveLength(0);
  });
});
