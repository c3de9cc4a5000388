import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallsModule } from '../src/calls/calls.module';
import { SqliteCallStore } from '../src/calls/store/sqlite-call-store';
import { TwinRendezvous } from '../src/calls/twins/twin-rendezvous';
import { CallsHarness, Json } from './support/calls-harness';
import { CollectingLogger } from './support/collecting-logger';
import { FakeOpenAI } from './support/fake-openai';
import { createTestApp, eventually } from './support/test-app';
import {
  liveAnnouncement,
  PhysicalCall,
  physicalCall,
  realtimeAnnouncement,
} from './support/twin-calls';

/** Rules written before the Live surface existed: an accept is a Realtime session. */
const RULES = {
  version: 1,
  rules: [
    {
      id: 'spam',
      when: { header: 'X-Spam', exists: true },
      action: { reject: { status_code: 486 } },
    },
    {
      id: 'desk',
      when: { header: 'X-Desk', exists: true },
      action: { refer: { target_uri: 'sip:desk@pbx.example.com' } },
    },
    { id: 'support', action: { accept: { model: 'gpt-realtime', instructions: 'Support.' } } },
  ],
};

describe('twins: one physical call announced on both surfaces gets one decision and one control request', () => {
  let fake: FakeOpenAI;
  let dir: string;
  let app: CallsHarness;

  const start = (options: { twinWaitMs?: number; logger?: CollectingLogger } = {}) =>
    app.start({ rules: RULES, ...options });
  const stop = () => app.stop();
  const admin = (method: 'get' | 'post', path: string) => app.admin(method, path);
  const recordOf = (id: string, status: string) => app.recordOf(id, status);
  const bothHandled = (count: number) => app.announcementsHandled(count);
  const t = () => app.t;

  beforeEach(async () => {
    fake = await FakeOpenAI.start();
    dir = mkdtempSync(join(tmpdir(), 'switchboard-twins-'));
    app = new CallsHarness(dir, fake);
  });
  afterEach(async () => {
    await stop();
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Offers the call at the fake (so that a second accept would fail there) and returns it. */
  function ringing(options: Parameters<typeof physicalCall>[0] = {}): PhysicalCall {
    const call = physicalCall(options);
    fake.calls.offer({ realtime: call.realtimeId, live: call.liveId });
    return call;
  }

  it('Realtime first, then Live: accepted once on Realtime; the Live twin is recorded on the same call', async () => {
    await start();
    const call = ringing();
    await t().deliver(realtimeAnnouncement(call)).expect(200);
    await recordOf(call.realtimeId, 'completed');
    await t()
      .deliver(liveAnnouncement(call, { sip_media_security: 'srtp' }))
      .expect(200);
    await bothHandled(2);

    expect(fake.requests.map((r) => r.path)).toEqual([
      `/v1/realtime/calls/${call.realtimeId}/accept`,
    ]);
    const record = await recordOf(call.liveId, 'completed'); // found by either id
    expect(record).toMatchObject({
      call_id: call.realtimeId,
      surface: 'realtime',
      surfaces: {
        realtime: { id: call.realtimeId, event_type: 'realtime.call.incoming', after_first_ms: 0 },
        live: {
          id: call.liveId,
          event_type: 'live.transport.incoming',
          paired_by: 'sip_call_id',
          sip_media_security: 'srtp',
          after_first_ms: expect.any(Number),
        },
      },
    });
    expect(record.surfaces.realtime.paired_by).toBeUndefined();
    expect(record.timings.waited_for_twin_ms).toBeUndefined();
  });

  it('Live first, with rules that accept on Realtime: waits for the Realtime twin, then accepts once on Realtime', async () => {
    await start();
    const call = ringing();
    await t().deliver(liveAnnouncement(call)).expect(200);
    const waiting = await recordOf(call.liveId, 'waiting');
    expect(waiting.surface).toBeUndefined();
    expect(fake.requests).toHaveLength(0);

    await t().deliver(realtimeAnnouncement(call)).expect(200);
    const record = await recordOf(call.realtimeId, 'completed');
    await bothHandled(2);
    expect(fake.requests.map((r) => [r.path, r.body])).toEqual([
      [
        `/v1/realtime/calls/${call.realtimeId}/accept`,
        { type: 'realtime', model: 'gpt-realtime', instructions: 'Support.' },
      ],
    ]);
    expect(record).toMatchObject({
      call_id: call.liveId,
      surface: 'realtime',
      decision: { rule: 'support', route: 'rule' },
      surfaces: { realtime: { paired_by: 'sip_call_id' }, live: { after_first_ms: 0 } },
      timings: { waited_for_twin_ms: expect.any(Number) },
    });
  });

  it('both announcements at the same moment, for many calls: each call gets exactly one request, on Realtime', async () => {
    await start();
    const calls = Array.from({ length: 8 }, () => ringing());
    // Every claim of the sixteen announcements meets at the store, then they run together.
    app.callStore.arm(16);
    await Promise.all(
      calls.flatMap((call) => [
        t().deliver(liveAnnouncement(call)).expect(200),
        t().deliver(realtimeAnnouncement(call)).expect(200),
      ]),
    );
    await bothHandled(16);
    await eventually(() => expect(fake.requests).toHaveLength(8), 10_000);
    for (const call of calls) {
      const sent = fake.requests.filter((r) =>
        [call.realtimeId, call.liveId].includes(r.control?.id ?? ''),
      );
      expect(sent.map((r) => r.path)).toEqual([`/v1/realtime/calls/${call.realtimeId}/accept`]);
      const record = await recordOf(call.realtimeId, 'completed');
      expect(Object.keys(record.surfaces).sort()).toEqual(['live', 'realtime']);
    }
    const list = (await admin('get', '/calls?limit=50').expect(200)).body as Json;
    expect(list.calls).toHaveLength(8);
  });

  it('a twin redelivered (another webhook-id), and the first redelivered too: still one request, nothing changed', async () => {
    await start();
    const call = ringing();
    await t().deliver(realtimeAnnouncement(call)).expect(200);
    await t().deliver(liveAnnouncement(call)).expect(200);
    await bothHandled(2);
    const before = await recordOf(call.realtimeId, 'completed');
    await t().deliver(liveAnnouncement(call)).expect(200);
    await t()
      .deliver(liveAnnouncement(call, {}, 'live.call.incoming'))
      .expect(200);
    await t().deliver(realtimeAnnouncement(call)).expect(200);
    await bothHandled(5);
    expect(fake.requests).toHaveLength(1);
    const after = await recordOf(call.realtimeId, 'completed');
    expect(after.surfaces).toEqual(before.surfaces);
  });

  it('a twin that never comes: a Realtime-only call is accepted at once, without waiting', async () => {
    await start({ twinWaitMs: 5000 });
    const call = ringing();
    await t().deliver(realtimeAnnouncement(call)).expect(200);
    const record = await recordOf(call.realtimeId, 'completed');
    expect(record.timings.waited_for_twin_ms).toBeUndefined();
    expect(Object.keys(record.surfaces)).toEqual(['realtime']);
    expect(fake.requests.map((r) => r.path)).toEqual([
      `/v1/realtime/calls/${call.realtimeId}/accept`,
    ]);
  });

  it('a twin that never comes: a Live-only call whose rule accepts on Realtime waits out the window, then takes on_error on Live', async () => {
    await start({ twinWaitMs: 200 });
    const call = ringing();
    await t().deliver(liveAnnouncement(call)).expect(200);
    const record = await recordOf(call.liveId, 'completed');
    expect(fake.requests.map((r) => [r.path, r.body])).toEqual([
      [`/v1/live/sessions/${call.liveId}/reject`, { status_code: 500 }],
    ]);
    expect(record).toMatchObject({
      surface: 'live',
      decision: {
        route: 'on_error',
        explanation: {
          matched: 'support',
          error: 'the rule accepts on realtime, and the call was announced on live only',
        },
      },
      timings: { waited_for_twin_ms: expect.any(Number) },
    });
  });

  it('a reject or a refer goes to the surface whose announcement came first, with no wait', async () => {
    await start();
    const spam = ringing({ extraHeaders: [{ name: 'X-Spam', value: '9' }] });
    await t().deliver(liveAnnouncement(spam)).expect(200);
    await recordOf(spam.liveId, 'completed');
    const desk = ringing({ extraHeaders: [{ name: 'X-Desk', value: '1' }] });
    await t().deliver(realtimeAnnouncement(desk)).expect(200);
    await recordOf(desk.realtimeId, 'completed');
    await t().deliver(realtimeAnnouncement(spam)).expect(200);
    await t().deliver(liveAnnouncement(desk)).expect(200);
    await bothHandled(4);
    expect(fake.requests.map((r) => [r.path, r.body])).toEqual([
      [`/v1/live/sessions/${spam.liveId}/reject`, { status_code: 486 }],
      [`/v1/realtime/calls/${desk.realtimeId}/refer`, { target_uri: 'sip:desk@pbx.example.com' }],
    ]);
  });

  it('early Live events that reuse the rtc_ id as session_id are paired by that id, even without a Call-ID', async () => {
    await start();
    const call = ringing({ sharedId: true });
    expect(call.liveId).toBe(call.realtimeId);
    await t().deliver(realtimeAnnouncement(call)).expect(200);
    await t().deliver(liveAnnouncement(call)).expect(200);
    await bothHandled(2);
    const record = await recordOf(call.realtimeId, 'completed');
    expect(record.surfaces.live).toMatchObject({ id: call.realtimeId, paired_by: 'shared_id' });
    expect(fake.requests.map((r) => r.path)).toEqual([
      `/v1/realtime/calls/${call.realtimeId}/accept`,
    ]);
  });

  it('two INVITEs that share a Call-ID but not From/To are two calls, each answered', async () => {
    await start({ twinWaitMs: 100 });
    const first = ringing();
    const second: PhysicalCall = {
      ...physicalCall(),
      sipHeaders: first.sipHeaders.map((header) =>
        header.name === 'From'
          ? { ...header, value: '<sip:+14155550999@other.example>;tag=x' }
          : header,
      ),
    };
    await t().deliver(realtimeAnnouncement(first)).expect(200);
    await t().deliver(liveAnnouncement(second)).expect(200);
    await recordOf(first.realtimeId, 'completed');
    // Its own call: these rules accept on Realtime only, so on Live it takes on_error.
    const other = await recordOf(second.liveId, 'completed');
    expect(other).toMatchObject({ call_id: second.liveId, decision: { route: 'on_error' } });
    expect(Object.keys(other.surfaces)).toEqual(['live']);
    expect(fake.requests.map((r) => r.path)).toEqual([
      `/v1/realtime/calls/${first.realtimeId}/accept`,
      `/v1/live/sessions/${second.liveId}/reject`,
    ]);
  });

  it('an operator hangup goes to the surface that answered the call', async () => {
    await start();
    const desk = ringing({ extraHeaders: [{ name: 'X-Desk', value: '1' }] });
    await t().deliver(liveAnnouncement(desk)).expect(200);
    await recordOf(desk.liveId, 'completed');
    // The referred call stays up at the fake only until the refer: offer a fresh one to hang up.
    const call = ringing();
    await t().deliver(realtimeAnnouncement(call)).expect(200);
    await t().deliver(liveAnnouncement(call)).expect(200);
    await bothHandled(3);
    await admin('post', `/calls/${call.liveId}/hangup`).expect(200);
    expect(fake.requests.map((r) => r.path)).toEqual([
      `/v1/live/sessions/${desk.liveId}/refer`,
      `/v1/realtime/calls/${call.realtimeId}/accept`,
      `/v1/realtime/calls/${call.realtimeId}/hangup`,
    ]);
    const record = await recordOf(call.realtimeId, 'completed');
    expect(record.operator_actions).toEqual([
      expect.objectContaining({ action: 'hangup', surface: 'realtime' }),
    ]);
    // The Live-referred call: its operator actions go to Live (the call is gone there: 502).
    await admin('post', `/calls/${desk.realtimeId}/hangup`).expect(404);
    const gone = await admin('post', `/calls/${desk.liveId}/hangup`).expect(502);
    expect(JSON.stringify(gone.body)).toContain('call_id_not_found');
    expect(fake.requests.at(-1)?.path).toBe(`/v1/live/sessions/${desk.liveId}/hangup`);
  });

  it('a restart between the twins: the twin arriving after it is recorded on the call, not routed again', async () => {
    await start();
    const call = ringing();
    await t().deliver(realtimeAnnouncement(call)).expect(200);
    await recordOf(call.realtimeId, 'completed');
    await stop();

    await start();
    await t().deliver(liveAnnouncement(call)).expect(200);
    await eventually(async () => {
      const record = (await admin('get', `/calls/${call.realtimeId}`).expect(200)).body as Json;
      expect(record.surfaces.live).toMatchObject({ id: call.liveId, paired_by: 'sip_call_id' });
    }, 10_000);
    expect(fake.requests.map((r) => r.path)).toEqual([
      `/v1/realtime/calls/${call.realtimeId}/accept`,
    ]);
  });

  it('a Live transport that is not SIP is stored and handed to handlers, but not routed', async () => {
    await start();
    const call = ringing();
    await t()
      .deliver(liveAnnouncement(call, { type: 'webrtc' }))
      .expect(200);
    await bothHandled(1);
    await admin('get', `/calls/${call.liveId}`).expect(404);
    expect(fake.requests).toHaveLength(0);
  });

  it('a Live announcement with odd SIP headers is bounded as a Realtime one is, and decided; one without a usable session_id is a 400', async () => {
    await start({ twinWaitMs: 50 });
    const call = ringing();
    const odd = {
      sip_headers: [null, ...call.sipHeaders, { name: 'X-Note', value: 'x'.repeat(9000) }],
      sip_media_security: { not: 'text' },
    };
    await t().deliver(liveAnnouncement(call, odd)).expect(200);
    const record = await recordOf(call.liveId, 'completed');
    expect(record.adjustments).toEqual({
      sip_headers: expect.objectContaining({
        dropped_because: { not_an_object: 1 },
        truncated: [{ name: 'X-Note', length: 9000 }],
      }),
      replaced: [
        {
          path: 'data.sip_media_security',
          problems: ['sip_media_security must be text, got object'],
        },
      ],
    });
    const refused = await t()
      .deliver(liveAnnouncement({ ...call, liveId: '..' }))
      .expect(400);
    expect(JSON.stringify(refused.body)).toContain('data.session_id');
  });

  it('shutting down while a decision waits for its twin: the call is decided at once with what has arrived', async () => {
    const logger = new CollectingLogger();
    await start({ twinWaitMs: 5000, logger });
    const call = ringing();
    await t().deliver(liveAnnouncement(call)).expect(200);
    await recordOf(call.liveId, 'waiting');
    // The record is readable a moment before its commit is synced and the decision waits.
    const rendezvous = t().app.get(TwinRendezvous);
    await eventually(async () => expect(rendezvous.waitingCalls).toBe(1));
    await stop();
    expect(logger.find('log', 'shutting down: 1 call(s) waiting for their twin')).toHaveLength(1);
    expect(fake.requests.map((r) => [r.path, r.body])).toEqual([
      [`/v1/live/sessions/${call.liveId}/reject`, { status_code: 500 }],
    ]);
    const store = new SqliteCallStore(join(dir, 'calls.db'));
    try {
      expect(await store.get(call.liveId)).toMatchObject({
        status: 'completed',
        surface: 'live',
        decision: { route: 'on_error' },
      });
    } finally {
      await store.close();
    }
  });

  it('CallsModule refuses a twin wait outside 0 to 5000 ms, naming the option', async () => {
    for (const twinWaitMs of [-1, 5001, Number.NaN]) {
      await expect(
        createTestApp({
          imports: [CallsModule.forRoot({ store: new SqliteCallStore(':memory:'), twinWaitMs })],
        }),
      ).rejects.toThrow(
        `CallsModule: twinWaitMs must be a number from 0 to 5000 (got ${twinWaitMs})`,
      );
    }
  });
});
