import { Logger } from '@nestjs/common';
import type { CallEventType } from '../../events/call-event-types';
import type { CallRecord, CallRecordPatch, CallStore } from '../store/call-store';
import type { SurfaceName } from '../surfaces/surface-name';

/** The fields of a call record that its sideband session writes, and no one else. */
export type SessionFields = Pick<
  CallRecord,
  'answered_at' | 'sideband' | 'transcript' | 'tool_calls' | 'dtmf' | 'transfers' | 'ended'
>;

/** Fields whose writes may wait a little (see `change`). */
const LAZY_FIELDS: ReadonlySet<keyof SessionFields> = new Set(['transcript', 'dtmf']);
export const LAZY_WRITE_MS = 1000;

type Publish = (type: CallEventType, data: object) => Promise<void>;

/**
 * The call record and the lifecycle events of one answered call, as its session sees them. The
 * session is the one writer of its fields (one session per call, in the process that accepted
 * it), so it keeps them in memory and writes what changed: one write at a time, changes made
 * meanwhile going out together in the next. Other fields (operator actions) are not touched:
 * the store applies a patch to the record as it is at the write. Events go out in the order
 * they happened (each through the event store, so they get sequence numbers in that order).
 */
export class CallJournal {
  private readonly logger = new Logger('Sideband');
  private readonly fields: SessionFields;
  private readonly dirty = new Set<keyof SessionFields>();
  private writing: Promise<void> = Promise.resolve();
  private writeQueued = false;
  private lazyTimer?: NodeJS.Timeout;
  private events: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: CallStore,
    private readonly publishEvent: Publish,
    readonly callId: string,
    readonly surface: SurfaceName,
    /** What the record holds already (a sideband adopted from another instance). */
    initial: SessionFields = {},
  ) {
    this.fields = { ...initial };
  }

  get current(): Readonly<SessionFields> {
    return this.fields;
  }

  /**
   * Sets fields (arrays are replaced whole: pass the new array) and writes them: at once, or,
   * for what is only said or keyed (transcript turns, DTMF), within `LAZY_WRITE_MS` together
   * with whatever else changed by then. Each record write rewrites the call's document, and a
   * thousand calls talking at once would otherwise rewrite a thousand growing documents a few
   * times a second; the events (`call.transcript`, `call.dtmf`) still go out at once.
   */
  change(fields: SessionFields): void {
    let urgent = false;
    for (const key of Object.keys(fields) as (keyof SessionFields)[]) {
      (this.fields as Record<string, unknown>)[key] = fields[key];
      this.dirty.add(key);
      if (!LAZY_FIELDS.has(key)) urgent = true;
    }
    if (urgent) this.writeSoon();
    else if (!this.lazyTimer) {
      this.lazyTimer = setTimeout(() => this.writeSoon(), LAZY_WRITE_MS);
      this.lazyTimer.unref();
    }
  }

  private writeSoon(): void {
    clearTimeout(this.lazyTimer);
    this.lazyTimer = undefined;
    if (this.writeQueued) return;
    this.writeQueued = true;
    this.writing = this.writing.then(() => this.write());
  }

  /** Appends to one of the list fields; with `keep`, only the last `keep` items stay. */
  append<K extends 'transcript' | 'tool_calls' | 'dtmf' | 'transfers'>(
    key: K,
    item: NonNullable<SessionFields[K]>[number],
    keep = Infinity,
  ): void {
    const list = (this.fields[key] ?? []) as unknown[];
    const from = Math.max(0, list.length + 1 - keep);
    this.change({ [key]: [...list.slice(from), item] } as SessionFields);
  }

  /**
   * A lifecycle event about this call: `call_id` and `surface` are added. It goes out after the
   * record writes begun so far, so that a listener who reads the record on `call.ended` (or
   * `call.answered`, `call.tool_called`...) finds in it what the event announces, every turn
   * said before the end included. Lazy writes not yet begun are not waited for.
   */
  publish(type: CallEventType, data: object): void {
    const event = { call_id: this.callId, surface: this.surface, ...data };
    const written = this.writing;
    this.events = this.events.then(() => written).then(() => this.publishEvent(type, event));
  }

  /** Resolves once every change and event so far is written. */
  async settled(): Promise<void> {
    if (this.lazyTimer) this.writeSoon();
    await this.writing;
    await this.events;
  }

  private async write(): Promise<void> {
    this.writeQueued = false;
    const patch: CallRecordPatch = {};
    for (const key of this.dirty) (patch as Record<string, unknown>)[key] = this.fields[key];
    this.dirty.clear();
    try {
      await this.store.update(this.callId, patch);
    } catch (error) {
      this.logger.error(`call ${this.callId}: could not record: ${(error as Error).message}`);
    }
  }
}
