import fc from 'fast-check';
import type { SurfaceName } from '../surfaces/surface-name';
import { Announcement, matchAnnouncement, TwinIndex } from './twin-matcher';

/**
 * What a store holds, as plain data, applying each match the way a store must: `first` makes a
 * call (keyed by the pair key it was given), `twin` adds the announcement to its call.
 */
class Calls implements TwinIndex {
  private readonly ids: { call: number; surface: SurfaceName; id: string }[] = [];
  private readonly keys = new Map<string, number>();
  private next = 1;

  record(announcement: Announcement) {
    const match = matchAnnouncement(announcement, this);
    if (match.kind === 'first') {
      const call = this.next++;
      if (match.pairKey !== undefined) this.keys.set(match.pairKey, call);
      this.ids.push({ call, surface: announcement.surface, id: announcement.id });
    } else if (match.kind === 'twin') {
      this.ids.push({ call: match.call, surface: announcement.surface, id: announcement.id });
    }
    return match;
  }

  callsWithId(id: string) {
    return this.ids.filter((entry) => entry.id === id);
  }
  callWithPairKey(pairKey: string) {
    return this.keys.get(pairKey);
  }
  surfacesOf(call: number) {
    return this.ids.filter((entry) => entry.call === call).map((entry) => entry.surface);
  }
  get count() {
    return this.next - 1;
  }
}

describe('matchAnnouncement', () => {
  it('pairs the other surface by the physical-call key, in either order', () => {
    for (const [first, second] of [
      ['realtime', 'live'],
      ['live', 'realtime'],
    ] as const) {
      const calls = new Calls();
      expect(calls.record({ surface: first, id: `${first}_1`, pairKey: 'k' })).toEqual({
        kind: 'first',
        pairKey: 'k',
      });
      expect(calls.record({ surface: second, id: `${second}_1`, pairKey: 'k' })).toEqual({
        kind: 'twin',
        call: 1,
        by: 'sip_call_id',
      });
    }
  });

  it('knows an announcement seen before by its id on its surface, whatever its key says now', () => {
    const calls = new Calls();
    calls.record({ surface: 'realtime', id: 'rtc_1', pairKey: 'k' });
    calls.record({ surface: 'live', id: 'live_1', pairKey: 'k' });
    expect(calls.record({ surface: 'live', id: 'live_1', pairKey: 'k' })).toEqual({
      kind: 'seen',
      call: 1,
    });
    expect(calls.record({ surface: 'realtime', id: 'rtc_1' })).toEqual({ kind: 'seen', call: 1 });
  });

  it('pairs early Live events by the rtc_ id they share with the Realtime announcement, without any key', () => {
    const calls = new Calls();
    calls.record({ surface: 'realtime', id: 'rtc_1' });
    expect(calls.record({ surface: 'live', id: 'rtc_1' })).toEqual({
      kind: 'twin',
      call: 1,
      by: 'shared_id',
    });
    expect(calls.record({ surface: 'live', id: 'rtc_1' })).toEqual({ kind: 'seen', call: 1 });
  });

  it('does not make a third announcement, or a second one on the same surface, a twin', () => {
    const calls = new Calls();
    calls.record({ surface: 'realtime', id: 'rtc_1', pairKey: 'k' });
    calls.record({ surface: 'live', id: 'live_1', pairKey: 'k' });
    const third = calls.record({ surface: 'live', id: 'live_2', pairKey: 'k' });
    expect(third).toMatchObject({
      kind: 'first',
      note: expect.stringContaining('same SIP Call-ID'),
    });
    expect(third).not.toHaveProperty('pairKey');
    const sameSurface = new Calls();
    sameSurface.record({ surface: 'realtime', id: 'rtc_1', pairKey: 'k' });
    expect(sameSurface.record({ surface: 'realtime', id: 'rtc_2', pairKey: 'k' })).toMatchObject({
      kind: 'first',
    });
  });

  it('routes an announcement without a key or shared id alone', () => {
    const calls = new Calls();
    calls.record({ surface: 'realtime', id: 'rtc_1' });
    expect(calls.record({ surface: 'live', id: 'live_1' })).toEqual({ kind: 'first' });
  });

  it('property: whatever order and repetitions, each physical call is decided once and every announcement lands on its call', () => {
    const announcements = fc
      .array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 6 })
      .chain((physical) =>
        fc.shuffledSubarray(
          physical.flatMap((n, i) => {
            const callNo = `${i}-${n}`;
            const keyed = i % 3 !== 2; // every third call has no Call-ID: paired by a shared id
            const rtc = `rtc_${callNo}`;
            const live = keyed ? `live_${callNo}` : rtc;
            const pairKey = keyed ? `key-${callNo}` : undefined;
            const copies = (n % 3) + 1; // redeliveries
            return Array.from({ length: copies }, () => [
              { surface: 'realtime' as const, id: rtc, pairKey, callNo },
              { surface: 'live' as const, id: live, pairKey, callNo },
            ]).flat();
          }),
          { minLength: 1 },
        ),
      );
    fc.assert(
      fc.property(announcements, (list) => {
        const calls = new Calls();
        const firsts = new Map<string, number>();
        const callOf = new Map<string, number>();
        for (const { callNo, ...announcement } of list) {
          const match = calls.record(announcement);
          if (match.kind === 'first') firsts.set(callNo, (firsts.get(callNo) ?? 0) + 1);
          const call = match.kind === 'first' ? calls.count : match.call;
          if (callOf.has(callNo)) expect(callOf.get(callNo)).toBe(call);
          callOf.set(callNo, call);
        }
        for (const count of firsts.values()) expect(count).toBe(1);
        expect(calls.count).toBe(new Set(list.map((a) => a.callNo)).size);
      }),
      { numRuns: 500 },
    );
  });
});
