import type { SurfaceName } from '../surfaces/surface-name';

/** One announcement of a ringing call on one surface, as the store is asked to record it. */
export interface Announcement {
  surface: SurfaceName;
  /** The call's id on that surface (`call_id` or `session_id`). */
  id: string;
  /** See `physicalCallKey`; absent when the INVITE has no Call-ID. */
  pairKey?: string;
}

/** What the store knows, looked up inside the transaction that records the announcement. */
export interface TwinIndex {
  /** The calls that hold this id, and on which surface. */
  callsWithId(id: string): { call: number; surface: SurfaceName }[];
  /** The call recorded under this physical-call key, if any. */
  callWithPairKey(pairKey: string): number | undefined;
  /** The surfaces whose announcement the call holds. */
  surfacesOf(call: number): SurfaceName[];
}

export type TwinMatch =
  /** The first announcement of a physical call: it starts the one decision. */
  | { kind: 'first'; pairKey?: string; note?: string }
  /** This surface's announcement of the call was recorded before: a redelivery or a resumed run. */
  | { kind: 'seen'; call: number }
  /** The other surface's announcement of a call already recorded: its twin, never routed again. */
  | { kind: 'twin'; call: number; by: 'shared_id' | 'sip_call_id' };

/**
 * Decides what an announcement is, from what the store holds. Pure: the store runs it inside
 * the transaction that then records the outcome, so two twins arriving at once are decided one
 * after the other, and exactly one of them is `first`.
 *
 * - The same id on the same surface: `seen`.
 * - The same id on the other surface (early Live events reused the `rtc_` id as `session_id`):
 *   `twin`, when that call has no announcement on this surface yet.
 * - The same physical-call key on a call without an announcement on this surface: `twin`.
 * - The same key on a call that already has one on this surface is not a twin (one INVITE is
 *   announced once per surface): a call of its own, recorded without the key and with a note.
 */
export function matchAnnouncement(announcement: Announcement, index: TwinIndex): TwinMatch {
  const holders = index.callsWithId(announcement.id);
  const same = holders.find((holder) => holder.surface === announcement.surface);
  if (same) return { kind: 'seen', call: same.call };
  for (const holder of holders) {
    if (!index.surfacesOf(holder.call).includes(announcement.surface))
      return { kind: 'twin', call: holder.call, by: 'shared_id' };
  }
  if (announcement.pairKey === undefined) return { kind: 'first' };
  const call = index.callWithPairKey(announcement.pairKey);
  if (call === undefined) return { kind: 'first', pairKey: announcement.pairKey };
  if (!index.surfacesOf(call).includes(announcement.surface))
    return { kind: 'twin', call, by: 'sip_call_id' };
  return {
    kind: 'first',
    note: `another ${announcement.surface} announcement has the same SIP Call-ID, From and To; one INVITE is announced once per surface, so this one is routed as a call of its own`,
  };
}
