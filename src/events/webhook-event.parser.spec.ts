import fc from 'fast-check';
import { BatchCompletedEvent } from '../batch/dto/batch-events.dto';
import { UnknownWebhookEventDto } from './unknown-webhook-event.dto';
import { parseWebhookEvent } from './webhook-event.parser';

describe('parseWebhookEvent', () => {
  it('drops fields OpenAI may add later from the DTO, but accepts the event', () => {
    const parsed = parseWebhookEvent(
      JSON.stringify({
        id: 'evt_1',
        created_at: 1,
        type: 'batch.completed',
        data: { id: 'b', extra: 1 },
        extra: 2,
      }),
    );
    expect(parsed).toMatchObject({ ok: true, known: true });
    const event = (parsed as { event: BatchCompletedEvent }).event;
    expect(event).toBeInstanceOf(BatchCompletedEvent);
    expect(event).not.toHaveProperty('extra');
    expect(event.data).not.toHaveProperty('extra');
  });

  it('takes an unknown type as an UnknownWebhookEventDto', () => {
    const parsed = parseWebhookEvent('{"id":"evt_1","type":"audio.done","data":{"x":[1]}}');
    expect(parsed).toMatchObject({
      ok: true,
      known: false,
      event: { type: 'audio.done', data: { x: [1] } },
    });
    expect((parsed as { event: object }).event).toBeInstanceOf(UnknownWebhookEventDto);
  });

  it('never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.json(),
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify({ type: 'batch.failed', data: v })),
        ),
        (text) => {
          const parsed = parseWebhookEvent(text);
          expect(typeof parsed.ok).toBe('boolean');
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('reads a body nested 100,000 levels deep without a crash: past 64 levels, values become null', () => {
    const nested = `${'['.repeat(100000)}${']'.repeat(100000)}`;
    for (const type of ['x.y', 'batch.completed']) {
      const parsed = parseWebhookEvent(
        `{"id":"evt_1","created_at":1,"type":"${type}","data":{"id":"b","deep":${nested}}}`,
      );
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) continue;
      expect((parsed.event.data as { id: string }).id).toBe('b');
    }
    const unknown = parseWebhookEvent(
      `{"id":"evt_2","created_at":1,"type":"x.y","data":{"deep":${nested}}}`,
    );
    let level: unknown = (unknown as unknown as { event: { data: { deep: unknown } } }).event.data
      .deep;
    let depth = 2; // data is level 1, deep level 2
    while (Array.isArray(level)) {
      level = level[0];
      depth += 1;
    }
    expect(level).toBeNull();
    expect(depth).toBe(64);
  });
});

describe('parseWebhookEvent: a ringing call', () => {
  const call = (envelope: Record<string, unknown>) =>
    JSON.stringify({
      type: 'realtime.call.incoming',
      data: { call_id: 'rtc_1', sip_headers: [] },
      ...envelope,
    });

  it('takes an unusable id and created_at from the delivery, and notes it', () => {
    const parsed = parseWebhookEvent(call({ created_at: -1, object: 'call' }), {
      webhookId: 'wh_7',
      receivedAt: 1_750_000_000_999,
    });
    expect(parsed).toMatchObject({
      ok: true,
      event: {
        id: 'wh_7',
        created_at: 1_750_000_000,
        data: {
          adjustments: {
            replaced: [
              { path: 'id', replaced_with: 'wh_7' },
              { path: 'object', problems: [expect.stringContaining('object')] },
              { path: 'created_at', replaced_with: 1_750_000_000 },
            ],
          },
        },
      },
    });
    expect((parsed as { event: object }).event).not.toHaveProperty('object');
  });

  it('refuses an unusable envelope when there is no delivery to take it from', () => {
    expect(parseWebhookEvent(call({ created_at: 1 }))).toMatchObject({
      ok: false,
      errors: [{ path: 'id' }],
    });
  });

  it('lists every problem when the call_id is unusable, envelope included', () => {
    const parsed = parseWebhookEvent(
      JSON.stringify({ type: 'realtime.call.incoming', data: { call_id: ' ' } }),
      { webhookId: 'wh_7', receivedAt: 0 },
    );
    expect(parsed.ok).toBe(false);
    const paths = (parsed as { errors: { path: string }[] }).errors.map((e) => e.path);
    expect(paths.sort()).toEqual(['created_at', 'data.call_id', 'id']);
  });
});

describe('parseWebhookEvent: a ringing call on the Live surface', () => {
  const live = (type: string, data: Record<string, unknown>) =>
    JSON.stringify({ id: 'evt_1', created_at: 1, type, data });

  it('types live.transport.incoming and the deprecated live.call.incoming, with sip_media_security', () => {
    for (const type of ['live.transport.incoming', 'live.call.incoming']) {
      const parsed = parseWebhookEvent(
        live(type, {
          type: 'sip',
          session_id: 'live_1',
          sip_headers: [{ name: 'Call-ID', value: 'a@b' }],
          sip_media_security: 'srtp',
        }),
      );
      expect(parsed).toMatchObject({
        ok: true,
        known: true,
        event: {
          type,
          data: {
            session_id: 'live_1',
            sip_headers: [{ name: 'Call-ID', value: 'a@b' }],
            sip_media_security: 'srtp',
          },
        },
      });
      expect((parsed as { event: { data: { adjustments?: object } } }).event.data.adjustments).toBe(
        undefined,
      );
    }
  });

  it('bounds odd SIP headers exactly as for a Realtime call, and notes what was cut', () => {
    const parsed = parseWebhookEvent(
      live('live.transport.incoming', {
        session_id: 'live_1',
        sip_headers: [null, { name: 'From', value: 'x'.repeat(9000) }, { name: 'To', value: 7 }],
      }),
    );
    expect(parsed).toMatchObject({
      ok: true,
      event: {
        data: {
          sip_headers: [
            { name: 'From', value: 'x'.repeat(8192) },
            { name: 'To', value: '7' },
          ],
          adjustments: {
            sip_headers: {
              received: 3,
              kept: 2,
              dropped_because: { not_an_object: 1 },
              truncated: [{ name: 'From', length: 9000 }],
              converted: 1,
            },
          },
        },
      },
    });
  });

  it('drops an unusable sip_media_security or transport type instead of refusing the call', () => {
    const parsed = parseWebhookEvent(
      live('live.transport.incoming', {
        type: { nested: true },
        session_id: 'live_1',
        sip_headers: [],
        sip_media_security: 'srtp '.repeat(20),
      }),
    );
    expect(parsed.ok).toBe(true);
    const data = (parsed as { event: { data: Record<string, unknown> } }).event.data;
    expect(data.type).toBeUndefined();
    expect(data.sip_media_security).toBeUndefined();
    expect(data.adjustments).toEqual({
      replaced: [
        { path: 'data.type', problems: ['type must be text, got object'] },
        {
          path: 'data.sip_media_security',
          problems: ['sip_media_security must be 1 to 64 visible ASCII characters'],
        },
      ],
    });
  });

  it('refuses only an unusable session_id, naming it', () => {
    const parsed = parseWebhookEvent(
      live('live.transport.incoming', { session_id: '..', sip_headers: [] }),
    );
    expect(parsed).toMatchObject({ ok: false, errors: [{ path: 'data.session_id' }] });
  });

  it('keeps an envelope replacement and a dropped word in one note', () => {
    const parsed = parseWebhookEvent(
      JSON.stringify({
        type: 'realtime.call.incoming',
        created_at: 1,
        data: { call_id: 'rtc_1', sip_headers: [], sip_media_security: 5 },
      }),
      { webhookId: 'wh_9', receivedAt: 0 },
    );
    expect(parsed).toMatchObject({
      ok: true,
      event: {
        id: 'wh_9',
        data: {
          adjustments: {
            replaced: [{ path: 'data.sip_media_security' }, { path: 'id', replaced_with: 'wh_9' }],
          },
        },
      },
    });
  });
});

describe('parseWebhookEvent: safety and Agents API session references', () => {
  it.each([
    'safety.alert.created',
    'safety.org_alert.created',
    'safety.warning_issued',
    'safety.deactivation_issued',
    'agent.session.created',
    'agent.session.action_required',
    'agent.session.in_progress',
    'agent.session.idle',
    'agent.session.failed',
  ])('%s is a known { id } reference', (type) => {
    const parsed = parseWebhookEvent(
      JSON.stringify({ id: 'evt_1', created_at: 1, type, data: { id: 'C-abc123', extra: 1 } }),
    );
    expect(parsed).toMatchObject({
      ok: true,
      known: true,
      event: { type, data: { id: 'C-abc123' } },
    });
    expect(parseWebhookEvent(JSON.stringify({ id: 'e', created_at: 1, type, data: {} })).ok).toBe(
      false,
    );
  });
});
