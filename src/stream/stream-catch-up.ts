import { EventStore, StoredEvent } from '../webhooks/store/event-store';
import { StreamClient } from './stream-client';
import { eventCallId, serializeEvent } from './stream-protocol';

/** A first read is small (events may be large); later ones are sized by what came back. */
const FIRST_PAGE = 50;
const MAX_PAGE = 500;

/**
 * Brings one client from where it says it is to live. Live events are held aside from the first
 * read on, so none committed during the reads is missed, whether the store answers at once or
 * later; and the client is sent the backlog at its own pace, so a backlog of any size reaches a
 * client that keeps reading.
 */
export class StreamCatchUp {
  constructor(
    private readonly store: EventStore,
    /** Events are added to a client's outbox only while less than this waits there. */
    private readonly lowWaterBytes: number,
  ) {}

  /**
   * Without `since`, live from the newest event; with it, first everything after `since` from
   * the store. Resolves true once the client is live (no await separates the last look at the
   * held events from that), false if it went away; rejects if the store fails.
   */
  async run(
    client: StreamClient,
    since: number | undefined,
    warn: (message: string) => void,
  ): Promise<boolean> {
    client.state = 'catching_up';
    const releases = client.heldReleases;
    const head = await this.store.headSeq();
    // Every event after `head` was announced after holding began, unless what was held has been
    // let go since: then the store is read for it.
    let readStore = client.heldReleases !== releases;
    client.lastSeq = head;
    if (since !== undefined && since > head) {
      // A sequence from another store (reset, restored): from its value no event would ever come.
      warn(`since ${since} is ahead of the newest event (${head}); streaming from ${head}`);
    } else if (since !== undefined) {
      client.lastSeq = since;
      readStore = true;
    }
    if (!(await this.drain(client, readStore))) return false;
    client.state = 'live';
    return true;
  }

  /** Pages through the store, then through the events held aside, until nothing is left. */
  private async drain(client: StreamClient, readStore: boolean): Promise<boolean> {
    let limit = FIRST_PAGE;
    for (;;) {
      const releases = client.heldReleases;
      if (readStore) {
        const page = await this.store.list({ afterSeq: client.lastSeq, limit });
        if (!(await this.deliver(client, page))) return false;
        // A full page may have more behind it; a shorter one reached the newest event as of the
        // read, and what came after is held aside, unless it was let go in the meantime.
        readStore = page.length === limit || client.heldReleases !== releases;
        limit = nextPageSize(page, this.lowWaterBytes, limit);
        continue;
      }
      const held = client.takeHeld();
      if (held.length === 0) return true;
      if (!(await this.deliver(client, held))) return false;
      readStore = client.heldReleases !== releases;
    }
  }

  /** Sends events in order, each once the client has taken enough of what it was sent before. */
  private async deliver(client: StreamClient, events: StoredEvent[]): Promise<boolean> {
    for (const event of events) {
      if (event.seq <= client.lastSeq) continue;
      if (!client.filter.matches(event.type, () => eventCallId(event.payload))) {
        client.lastSeq = event.seq;
        continue;
      }
      const message = serializeEvent(event);
      const bytes = Buffer.byteLength(message);
      // Room for this event under the low-water mark, or an empty outbox for one bigger than it.
      await client.outbox.room(Math.max(1, this.lowWaterBytes - bytes));
      if (!client.open) return false;
      client.lastSeq = event.seq;
      client.outbox.push(message, bytes);
    }
    return client.open;
  }
}

/** The next read: about `targetChars` of payload, judging by the last page. */
function nextPageSize(page: StoredEvent[], targetChars: number, previous: number): number {
  if (page.length === 0) return previous;
  const chars = page.reduce((sum, event) => sum + event.payload.length, 0);
  return Math.min(MAX_PAGE, Math.max(1, Math.floor((targetChars * page.length) / chars)));
}
