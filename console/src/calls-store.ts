import { api, ApiError } from './api';
import { EventStream, eventCallId, StreamEvent } from './stream';
import type { CallRecord, EventSummary } from './types';

/** How many calls the board loads at the start (newest first) and keeps. */
export const BOARD_LIMIT = 1000;
const RECENT_EVENTS = 500;
/**
 * What is only said or keyed (`call.transcript`, `call.dtmf`) goes out as an event at once but
 * reaches the record within a second (the service batches those writes: LAZY_WRITE_MS in
 * src/calls/sideband/call-journal.ts), so a read made on the event can miss it. Such a call is
 * read once more this long after its last such event.
 */
export const LAZY_REREAD_MS = 1500;
const LAZY_EVENTS = new Set(['call.transcript', 'call.dtmf']);

/**
 * The console's shared state: call records by id, kept current from the stream, and the most
 * recent events. Each event about a call has the record read again (one request per call at a
 * time, however many events), so the board shows exactly what `GET /calls/:id` says.
 */
export class ConsoleState {
  readonly calls = new Map<string, CallRecord>();
  /** Any id of a call (either twin's) to the record's name. */
  private readonly aliases = new Map<string, string>();
  readonly recentEvents: EventSummary[] = [];
  version = 0;
  loading = true;
  loadError: string | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly pending = new Set<string>();
  private readonly inFlight = new Set<string>();
  private listLoaded = false;
  private notifyScheduled = false;
  /** Calls to read again once their lazily written fields are in the record (see above). */
  private readonly rereads = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(readonly stream: EventStream) {
    stream.onEvent((event) => this.onEvent(event));
    stream.onCaughtUp((first) => {
      if (first) void this.loadList();
    });
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls newest first. */
  sorted(): CallRecord[] {
    return [...this.calls.values()].sort(
      (a, b) =>
        Date.parse(b.timings.received_at) - Date.parse(a.timings.received_at) ||
        b.event_seq - a.event_seq,
    );
  }

  get(id: string): CallRecord | undefined {
    return this.calls.get(this.aliases.get(id) ?? id);
  }

  upsert(record: CallRecord): void {
    this.calls.set(record.call_id, record);
    for (const arrival of Object.values(record.surfaces)) {
      if (arrival) this.aliases.set(arrival.id, record.call_id);
    }
    this.changed();
  }

  /** Reads one call again now (after an action, or when its view opens). */
  async refresh(id: string): Promise<CallRecord | undefined> {
    // Read before the stream's starting point is fixed: a change between this read and that
    // point comes as no event, so the call is read once more after the list.
    if (!this.listLoaded) this.pending.add(id);
    try {
      const { body } = await api<CallRecord>('GET', `/calls/${encodeURIComponent(id)}`);
      this.upsert(body);
      return body;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  /**
   * The starting list, read once the stream has fixed its starting point: calls recorded
   * before it are in the list, calls after it come as events, so none falls between.
   */
  private async loadList(): Promise<void> {
    this.loading = true;
    this.changed();
    try {
      let cursor: string | null = null;
      do {
        const query: string = `/calls?limit=200${cursor ? `&cursor=${cursor}` : ''}`;
        const answer = await api<{ calls: CallRecord[]; next_cursor: string | null }>('GET', query);
        const body = answer.body;
        // Read after the starting point: as new as any record read before it. Changes after
        // it come as events, whose reads wait for this list (see drain).
        for (const record of body.calls) this.upsert(record);
        cursor = body.next_cursor;
      } while (cursor && this.calls.size < BOARD_LIMIT);
      this.loadError = undefined;
    } catch (error) {
      this.loadError = (error as Error).message;
    }
    this.loading = false;
    this.listLoaded = true;
    this.changed();
    this.drain();
  }

  private onEvent(message: StreamEvent): void {
    const event = message.event;
    this.recentEvents.unshift({
      seq: message.seq,
      id: event.id ?? '',
      webhook_id: '',
      type: event.type,
      source: message.source,
      received_at: new Date().toISOString(),
    });
    if (this.recentEvents.length > RECENT_EVENTS) this.recentEvents.length = RECENT_EVENTS;
    const callId = eventCallId(event);
    if (callId) {
      const id = this.aliases.get(callId) ?? callId;
      this.pending.add(id);
      this.drain();
      if (LAZY_EVENTS.has(event.type)) this.rereadLater(id);
    }
    this.changed();
  }

  /** One more read of the call after its latest lazily written event (one timer per call). */
  private rereadLater(id: string): void {
    clearTimeout(this.rereads.get(id));
    this.rereads.set(
      id,
      setTimeout(() => {
        this.rereads.delete(id);
        this.pending.add(id);
        this.drain();
      }, LAZY_REREAD_MS),
    );
  }

  /** Reads the records that events named, one request per call at a time. */
  private drain(): void {
    if (!this.listLoaded) return;
    for (const id of [...this.pending]) {
      if (this.inFlight.has(id)) continue;
      this.pending.delete(id);
      this.inFlight.add(id);
      this.refresh(id)
        .catch(() => this.pending.add(id))
        .finally(() => {
          this.inFlight.delete(id);
          if (this.pending.has(id)) setTimeout(() => this.drain(), 500);
        });
    }
  }

  /** Listeners hear of changes at most once per frame, however many records changed. */
  private changed(): void {
    this.version++;
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    const run = () => {
      this.notifyScheduled = false;
      this.listeners.forEach((listener) => listener());
    };
    if (typeof requestAnimationFrame === 'function' && document.visibilityState === 'visible') {
      requestAnimationFrame(run);
    } else {
      setTimeout(run, 50);
    }
  }
}
