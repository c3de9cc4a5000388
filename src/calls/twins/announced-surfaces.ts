import type { CallRecord } from '../store/call-store';
import type { SurfaceName } from '../surfaces/surface-name';

/**
 * The surfaces that announced a call, in order of arrival: the first announcement (the one
 * without `paired_by`), then its twin.
 */
export function announcedSurfaces(record: Pick<CallRecord, 'surfaces'>): SurfaceName[] {
  const entries = Object.entries(record.surfaces) as [SurfaceName, { paired_by?: string }][];
  return entries
    .sort(([, a], [, b]) => Number(a.paired_by !== undefined) - Number(b.paired_by !== undefined))
    .map(([surface]) => surface);
}
