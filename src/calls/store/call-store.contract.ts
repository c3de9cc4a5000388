import type { SurfaceName } from '../surfaces/surface-name';
import type { CallRecord, CallStore, SurfaceArrival } from './call-store';

/**
 * What every CallStore promises, run against each store (SQLite and PostgreSQL) by its spec.
 * `open` gives a store on fresh, empty storage; `reopen` another store on the same storage,
 * open at the same time (a second instance) or after the first closed (a restart).
 */
export interface CallStoreHarness {
  open(): Promise<CallStore>;
  reopen(): Promise<CallStore>;
  cleanup(): Promise<void>;
}

export function arrival(
  surface: SurfaceName,
  id: string,
  at = '2026-11-23T15:00:00.000Z',
): SurfaceArrival {
  return {
    id,
    event_type: surface === 'realtime' ? 'realtime.call.incoming' : 'live.transport.incoming',
    event_id: `evt_${id}`,
    event_seq: 1,
    received_at: at,
    after_first_ms: 0,
  };
}

export function callRecord(surface: SurfaceName, id: string): CallRecord {
  return {
    call_id: id,
    event_id: `evt_${id}`,
    event_seq: 1,
    sip_headers: [],
    status: 'acting',
    decision: {
      route: 'default',
      rule: null,
      action: { type: 'reject', status_code: 404 },
      captures: {},
      explanation: { matched: null, rules_before: [], skipped_by_index: 0 },
      rules_version: 'v1',
    },
    openai: null,
    timings: { received_at: '2026-11-23T15:00:00.000Z', decided_after_ms: 0 },
    operator_actions: [],
    surfaces: { [surface]: arrival(surface, id) },
  };
}

/** One announcement, arriving 40 ms after the call's first. */
export const claim = (store: CallStore, surface: SurfaceName, id: string, pairKey?: string) =>
  store.claim(
    callRecord(surface, id),
    { surface, id, pairKey },
    arrival(surface, id, '2026-11-23T15:00:00.040Z'),
  );

export function describeCallStoreContract(
  name: string,
  makeHarness: () => CallStoreHarness,
  describeIt: jest.Describe = describe,
): void {
  describeIt(`${name}: the CallStore contract`, () => {
    let harness: CallStoreHarness;
    let store: CallStore;
    const others: CallStore[] = [];
    const reopen = async () => {
      const another = await harness.reopen();
      others.push(another);
      return another;
    };

    beforeEach(async () => {
      harness = makeHarness();
      store = await harness.open();
    });
    afterEach(async () => {
      for (const other of others.splice(0)) await other.close();
      await store.close();
      await harness.cleanup();
    });

    it('creates the first announcement, adds the twin to it, and recognises either seen again', async () => {
      expect(await claim(store, 'live', 'live_1', 'k')).toEqual({ outcome: 'created' });
      const twin = await claim(store, 'realtime', 'rtc_1', 'k');
      expect(twin).toMatchObject({
        outcome: 'twin',
        record: {
          call_id: 'live_1',
          surfaces: {
            live: { id: 'live_1' },
            realtime: { id: 'rtc_1', paired_by: 'sip_call_id', after_first_ms: 40 },
          },
        },
      });
      expect(await claim(store, 'realtime', 'rtc_1', 'k')).toMatchObject({ outcome: 'seen' });
      expect(await claim(store, 'live', 'live_1', 'k')).toMatchObject({
        outcome: 'seen',
        record: { call_id: 'live_1' },
      });
      expect((await store.get('rtc_1'))?.call_id).toBe('live_1');
      expect((await store.get('live_1'))?.surfaces).toHaveProperty('realtime');
      expect(await store.get('rtc_none')).toBeUndefined();
      expect((await store.list({ limit: 10 })).records).toHaveLength(1);
    });

    it('pairs twins that share an id, and routes a second announcement on one surface as a call of its own', async () => {
      expect(await claim(store, 'realtime', 'rtc_s')).toEqual({ outcome: 'created' });
      expect(await claim(store, 'live', 'rtc_s')).toMatchObject({
        outcome: 'twin',
        record: { surfaces: { live: { paired_by: 'shared_id' } } },
      });
      expect(await claim(store, 'realtime', 'rtc_a', 'same')).toEqual({ outcome: 'created' });
      expect(await claim(store, 'realtime', 'rtc_b', 'same')).toEqual({ outcome: 'created' });
      expect((await store.get('rtc_b'))?.pairing_note).toMatch(/routed as a call of its own/);
    });

    it('changes a record only while its status is the expected one (compare-and-set)', async () => {
      await store.claim(
        { ...callRecord('live', 'live_1'), status: 'waiting' },
        { surface: 'live', id: 'live_1' },
        arrival('live', 'live_1'),
      );
      expect(
        await store.update('live_1', { status: 'acting', surface: 'realtime' }, 'waiting'),
      ).toBe(true);
      expect(await store.update('live_1', { status: 'acting', surface: 'live' }, 'waiting')).toBe(
        false,
      );
      expect((await store.get('live_1'))?.surface).toBe('realtime');
      expect(await store.update('nope', { status: 'failed' })).toBe(false);
      expect((await store.list({ limit: 10, status: 'acting' })).records).toHaveLength(1);
      expect((await store.list({ limit: 10, status: 'waiting' })).records).toHaveLength(0);
    });

    it('merges a patch into the record and keeps the fields it does not name, known to this release or not', async () => {
      const later = { ...callRecord('realtime', 'rtc_f'), answered_at: '2026-11-23T15:00:01Z' };
      await store.claim(later, { surface: 'realtime', id: 'rtc_f' }, arrival('realtime', 'rtc_f'));
      const transcript = [{ at: '2026-11-23T15:00:02Z', speaker: 'caller', text: 'hello' }];
      // A field a later release adds is patched like any other (the patch's type is this release's).
      expect(
        await store.update('rtc_f', { status: 'completed', transcript } as Record<string, unknown>),
      ).toBe(true);
      expect(await store.get('rtc_f')).toMatchObject({
        status: 'completed',
        answered_at: '2026-11-23T15:00:01Z',
        transcript,
        decision: { rules_version: 'v1' },
      });
      expect((await store.list({ limit: 10, status: 'completed' })).records).toHaveLength(1);
    });

    it('appends operator actions atomically: all of many at once are kept', async () => {
      await claim(store, 'realtime', 'rtc_op');
      const actions = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          store.appendOperatorAction('rtc_op', {
            action: 'refer',
            target_uri: `sip:desk${i}@example.com`,
            at: '2026-11-23T15:00:05.000Z',
            outcome: { dry_run: true },
          }),
        ),
      );
      expect(actions.every((record) => record !== undefined)).toBe(true);
      const targets = (await store.get('rtc_op'))!.operator_actions.map((a) => a.target_uri);
      expect(targets.sort()).toEqual(
        Array.from({ length: 10 }, (_, i) => `sip:desk${i}@example.com`).sort(),
      );
      expect(
        await store.appendOperatorAction('rtc_none', {
          action: 'hangup',
          at: '2026-11-23T15:00:05.000Z',
          outcome: { dry_run: true },
        }),
      ).toBeUndefined();
    });

    it('lists newest first, a page at a time', async () => {
      for (let i = 0; i < 5; i++) await claim(store, 'realtime', `rtc_${i}`);
      const first = await store.list({ limit: 2 });
      expect(first.records.map((r) => r.call_id)).toEqual(['rtc_4', 'rtc_3']);
      const second = await store.list({ limit: 2, before: first.cursor });
      expect(second.records.map((r) => r.call_id)).toEqual(['rtc_2', 'rtc_1']);
      const last = await store.list({ limit: 2, before: second.cursor });
      expect(last).toEqual({ records: [expect.objectContaining({ call_id: 'rtc_0' })] });
    });

    it('saves the rule set only over the version it was read at (compare-and-swap)', async () => {
      expect(await store.loadRuleSet()).toBeUndefined();
      const first = { version: 1, rules: [{ id: 'b', action: 'x' }], default: { z: 1, a: 2 } };
      expect(await store.saveRuleSet(first, 'v1', undefined)).toBe(true);
      expect(await store.saveRuleSet({ rules: [] }, 'v1b', undefined)).toBe(false);
      expect(await store.saveRuleSet({ rules: [] }, 'v2', 'v0')).toBe(false);
      const loaded = await store.loadRuleSet();
      expect(loaded).toMatchObject({ version: 'v1', document: first });
      // The document as it was written, key order included (GET /rules shows it).
      expect(JSON.stringify(loaded!.document)).toBe(JSON.stringify(first));
      expect(await store.saveRuleSet({ rules: [] }, 'v2', 'v1')).toBe(true);
      expect(await store.loadRuleSet()).toMatchObject({ version: 'v2', document: { rules: [] } });
    });

    it('keeps records and rules for the next store on the same storage', async () => {
      await claim(store, 'live', 'live_k', 'key');
      await store.saveRuleSet({ rules: [] }, 'v1', undefined);
      await store.close();
      const next = await reopen();
      expect((await next.get('live_k'))?.call_id).toBe('live_k');
      expect(await claim(next, 'realtime', 'rtc_k', 'key')).toMatchObject({ outcome: 'twin' });
      expect(await next.loadRuleSet()).toMatchObject({ version: 'v1' });
    });

    it('makes exactly one decision per physical call when twins and copies reach two stores at once', async () => {
      const other = await reopen();
      const calls = Array.from({ length: 20 }, (_, i) => i);
      const outcomes = await Promise.all(
        calls.flatMap((i) => [
          // Each twin reaches one store, a copy of each reaches the other.
          claim(store, 'realtime', `rtc_c${i}`, `key${i}`),
          claim(other, 'live', `live_c${i}`, `key${i}`),
          claim(other, 'realtime', `rtc_c${i}`, `key${i}`),
          claim(store, 'live', `live_c${i}`, `key${i}`),
        ]),
      );
      for (const i of calls) {
        const mine = outcomes.slice(4 * i, 4 * i + 4).map((o) => o.outcome);
        expect(mine.filter((o) => o === 'created')).toHaveLength(1);
        expect(mine.filter((o) => o === 'twin')).toHaveLength(1);
        expect(mine.filter((o) => o === 'seen')).toHaveLength(2);
      }
      const { records } = await store.list({ limit: 100 });
      expect(records).toHaveLength(calls.length);
      for (const record of records) {
        expect(Object.keys(record.surfaces).sort()).toEqual(['live', 'realtime']);
      }
      // And leaving `waiting` is won by one of the two stores.
      await other.claim(
        { ...callRecord('live', 'live_w'), status: 'waiting' },
        { surface: 'live', id: 'live_w' },
        arrival('live', 'live_w'),
      );
      const sent = await Promise.all([
        store.update('live_w', { status: 'acting', surface: 'live' }, 'waiting'),
        other.update('live_w', { status: 'acting', surface: 'realtime' }, 'waiting'),
      ]);
      expect(sent.filter(Boolean)).toHaveLength(1);
    });

    /** An answered call, as the sideband service leaves it: completed, held by `holder`. */
    const answered = async (target: CallStore, id: string, holder: string) => {
      await claim(target, 'realtime', id);
      await target.update(id, { status: 'completed', answered_at: '2026-11-23T15:00:01.000Z' });
      expect(await target.holdSidebands!(holder, [id], 60_000)).toEqual([id]);
    };

    it('holds sideband leases in one call for many, and only the holder renews or drops them', async () => {
      await answered(store, 'rtc_l1', 'a');
      await answered(store, 'rtc_l2', 'a');
      await answered(store, 'rtc_l3', 'b');
      const held = await store.holdSidebands!(
        'a',
        ['rtc_l1', 'rtc_l2', 'rtc_l3', 'rtc_none'],
        60_000,
      );
      expect(held.sort()).toEqual(['rtc_l1', 'rtc_l2']);
      // Unexpired leases are nobody's to adopt.
      expect(await store.adoptSidebands!('c', 60_000, 10)).toEqual([]);
      expect(await store.holdSidebands!('b', ['rtc_l1'], null)).toEqual([]);
      expect(await store.holdSidebands!('a', ['rtc_l1'], null)).toEqual(['rtc_l1']);
      // Released (lease 0): adoptable at once; dropped (the call ended): never.
      expect(await store.holdSidebands!('a', ['rtc_l2'], 0)).toEqual(['rtc_l2']);
      const adopted = await store.adoptSidebands!('c', 60_000, 10);
      expect(adopted.map((record) => record.call_id)).toEqual(['rtc_l2']);
      expect(adopted[0]).toMatchObject({ status: 'completed', answered_at: expect.any(String) });
      expect(await store.holdSidebands!('a', ['rtc_l2'], 60_000)).toEqual([]);
      expect(await store.holdSidebands!('c', ['rtc_l2'], 60_000)).toEqual(['rtc_l2']);
    });

    it('takes the sideband lease with a record update, only when the update is made and nobody else holds it', async () => {
      await claim(store, 'realtime', 'rtc_u1');
      await store.update('rtc_u1', { status: 'acting' });
      // The compare-and-set fails: no lease either.
      expect(
        await store.update('rtc_u1', { status: 'completed' }, 'waiting', {
          holder: 'a',
          leaseMs: 60_000,
        }),
      ).toBe(false);
      expect(await store.holdSidebands!('b', ['rtc_u1'], 60_000)).toEqual(['rtc_u1']);
      expect(await store.holdSidebands!('b', ['rtc_u1'], 0)).toEqual(['rtc_u1']);
      expect(
        await store.update(
          'rtc_u1',
          { status: 'completed', answered_at: '2026-11-23T15:00:01.000Z' },
          'acting',
          { holder: 'b', leaseMs: 60_000 },
        ),
      ).toBe(true);
      expect(await store.get('rtc_u1')).toMatchObject({
        status: 'completed',
        answered_at: '2026-11-23T15:00:01.000Z',
      });
      // Held by b (not expired): nobody adopts it, and a does not take it by an update.
      expect(await store.adoptSidebands!('c', 60_000, 10)).toEqual([]);
      expect(
        await store.update('rtc_u1', { dtmf: [] }, undefined, { holder: 'a', leaseMs: 0 }),
      ).toBe(true);
      expect(await store.holdSidebands!('a', ['rtc_u1'], 60_000)).toEqual([]);
      expect(await store.holdSidebands!('b', ['rtc_u1'], 60_000)).toEqual(['rtc_u1']);
    });

    it('applies concurrent updates of one record in the order asked, and of many records at once', async () => {
      for (let i = 0; i < 5; i++) await claim(store, 'realtime', `rtc_o${i}`);
      const results = await Promise.all([
        store.update('rtc_o0', { status: 'acting' }),
        store.update('rtc_o0', { status: 'completed' }, 'acting'),
        store.update('rtc_o0', { status: 'failed' }, 'acting'),
        ...[1, 2, 3, 4].map((i) => store.update(`rtc_o${i}`, { status: 'failed' })),
        store.update('rtc_nope', { status: 'failed' }),
      ]);
      expect(results).toEqual([true, true, false, true, true, true, true, false]);
      expect((await store.get('rtc_o0'))?.status).toBe('completed');
      expect((await store.list({ limit: 10, status: 'failed' })).records).toHaveLength(4);
    });

    it('lets exactly one of two stores adopt each expired sideband, never an ended call, at most `limit`', async () => {
      const other = await reopen();
      for (let i = 0; i < 6; i++) await answered(store, `rtc_x${i}`, 'dead');
      await store.update('rtc_x5', {
        ended: { at: '2026-11-23T15:01:00.000Z', reason: 'caller_hung_up', inferred: true },
      });
      expect(
        await store.holdSidebands!(
          'dead',
          Array.from({ length: 6 }, (_, i) => `rtc_x${i}`),
          0,
        ),
      ).toHaveLength(6);
      expect(await store.adoptSidebands!('a', 60_000, 0)).toEqual([]);
      const [mine, theirs] = await Promise.all([
        store.adoptSidebands!('a', 60_000, 3),
        other.adoptSidebands!('b', 60_000, 3),
      ]);
      const ids = [...mine, ...theirs].map((record) => record.call_id).sort();
      expect(ids).toEqual(['rtc_x0', 'rtc_x1', 'rtc_x2', 'rtc_x3', 'rtc_x4']);
      expect(mine.length).toBeLessThanOrEqual(3);
      expect(await store.adoptSidebands!('a', 60_000, 10)).toEqual([]);
    });

    it('is ready while open', async () => {
      expect(await store.checkReady()).toEqual({ ready: true });
    });
  });
}
