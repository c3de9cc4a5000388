import { CallControlClient } from '../src/calls/control/call-control.client';
import { sendThrough } from '../src/calls/surfaces/call-surface';
import { CallSurfaces } from '../src/calls/surfaces/call-surfaces';
import { FakeOpenAI } from './support/fake-openai';

describe('call-control surfaces: Realtime and Live through one transport, against a fake OpenAI', () => {
  let fake: FakeOpenAI;
  let surfaces: CallSurfaces;

  beforeEach(async () => {
    fake = await FakeOpenAI.start();
    surfaces = new CallSurfaces(
      new CallControlClient({ apiKey: 'sk-test', baseURL: fake.baseURL, retryBaseMs: 10 }),
    );
  });
  afterEach(() => fake.stop());

  it('sends each Live request to /v1/live/sessions/{id}/... with its body, the key and an empty 200 as success', async () => {
    const live = surfaces.get('live');
    const session = {
      type: 'live',
      model: 'gpt-live-1',
      instructions: 'Help.',
      audio: { output: { voice: 'marin' } },
      delegation: { type: 'responses', responses: { model: 'gpt-5', tools: [] } },
    };
    const outcomes = [
      await live.accept('live_1', session),
      await live.refer('live_1', 'tel:+14155550199'),
      await live.hangup('live_1'),
      await live.reject('live_2', 486),
    ];
    expect(outcomes).toEqual(
      outcomes.map(() => expect.objectContaining({ ok: true, status: 200 })),
    );
    expect(fake.requests.map((r) => [r.method, r.path, r.body, r.authorization])).toEqual([
      ['POST', '/v1/live/sessions/live_1/accept', { session }, 'Bearer sk-test'],
      [
        'POST',
        '/v1/live/sessions/live_1/refer',
        { target_uri: 'tel:+14155550199' },
        'Bearer sk-test',
      ],
      ['POST', '/v1/live/sessions/live_1/hangup', undefined, 'Bearer sk-test'],
      ['POST', '/v1/live/sessions/live_2/reject', { status_code: 486 }, 'Bearer sk-test'],
    ]);
  });

  it('sends the Realtime requests as before: the session is the body', async () => {
    const session = { type: 'realtime', model: 'gpt-realtime' };
    await sendThrough(surfaces.get('realtime'), 'rtc_1', { type: 'accept', session });
    await sendThrough(surfaces.get('realtime'), 'rtc_2', { type: 'reject', status_code: 603 });
    expect(fake.requests.map((r) => [r.path, r.body])).toEqual([
      ['/v1/realtime/calls/rtc_1/accept', session],
      ['/v1/realtime/calls/rtc_2/reject', { status_code: 603 }],
    ]);
  });

  it('a malformed Live accept is refused by the fake as OpenAI documents it (so the tests would see one)', async () => {
    const outcome = await surfaces
      .get('live')
      .accept('live_1', { type: 'live', model: 'gpt-live-1', audio: { format: 'pcm16' } });
    expect(outcome).toMatchObject({ ok: false, status: 400, attempts: 1 });
    expect(outcome?.error).toContain('audio.format must be omitted for SIP');
  });

  it('the first accept on either surface wins; the other surface then answers 409, and 404 once the call is gone', async () => {
    fake.calls.offer({ realtime: 'rtc_1', live: 'live_1' });
    const won = await surfaces.get('live').accept('live_1', { type: 'live', model: 'gpt-live-1' });
    const lost = await surfaces
      .get('realtime')
      .accept('rtc_1', { type: 'realtime', model: 'gpt-realtime' });
    expect(won).toMatchObject({ ok: true });
    expect(lost).toMatchObject({ ok: false, status: 409, attempts: 1 });
    expect(lost?.error).toContain('call_already_accepted');
    expect(fake.calls.answeredOn('rtc_1')).toBe('live');

    await surfaces.get('live').hangup('live_1');
    const gone = await surfaces.get('live').refer('live_1', 'tel:+14155550199');
    expect(gone).toMatchObject({ ok: false, status: 404, attempts: 1 });
    expect(gone?.error).toContain('call_id_not_found');
  });

  it('retries a Live 5xx with the same bounded retry as Realtime', async () => {
    fake.reply({ status: 503, body: { error: { message: 'busy' } } });
    const outcome = await surfaces.get('live').reject('live_3', 603);
    expect(outcome).toMatchObject({ ok: true, attempts: 2 });
    expect(fake.on('live').map((r) => r.path)).toEqual([
      '/v1/live/sessions/live_3/reject',
      '/v1/live/sessions/live_3/reject',
    ]);
  });

  it('escapes a session id in the path, as the SDK escapes a Realtime call id', async () => {
    await surfaces.get('live').hangup('live_a/b?c');
    expect(fake.requests[0].path).toBe('/v1/live/sessions/live_a%2Fb%3Fc/hangup');
  });

  it('sends nothing without an API key (dry run)', async () => {
    const dry = new CallSurfaces(new CallControlClient({ baseURL: fake.baseURL }));
    expect(dry.dryRun).toBe(true);
    expect(await dry.get('live').accept('live_1', { type: 'live', model: 'gpt-live-1' })).toBe(
      undefined,
    );
    expect(fake.requests).toHaveLength(0);
  });
});
