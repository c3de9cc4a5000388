import WebSocket from 'ws';
import { StoredEvent } from '../webhooks/store/event-store';
import { ClientOutbox } from './client-outbox';
import { StreamFilter } from './stream-protocol';

export type ClientState = 'idle' | 'catching_up' | 'live';

/** One connected subscriber: its filter, where it is in the sequence, and its socket. */
export class StreamClient {
  readonly filter = new StreamFilter();
  readonly outbox: ClientOutbox;
  state: ClientState = 'idle';
  /** The highest sequence number this client has been given or passed over. */
  lastSeq = 0;
  alive = true;
  closed = false;
  /**
   * How many times the live events held aside during a catch-up were let go for being too many.
   * The store still has them: a catch-up that sees this change reads the store again.
   */
  heldReleases = 0;
  /** Live events that arrive while the client catches up from the store, in order. */
  private held: StoredEvent[] = [];
  private heldChars = 0;

  constructor(
    readonly socket: WebSocket,
    socketHighWater: number,
  ) {
    this.outbox = new ClientOutbox(socket, socketHighWater);
  }

  get open(): boolean {
    return !this.closed && this.socket.readyState === WebSocket.OPEN;
  }

  /** Holds a live event aside; past either bound they are all let go (see `heldReleases`). */
  hold(event: StoredEvent, maxChars: number, maxEvents: number): void {
    this.held.push(event);
    this.heldChars += event.payload.length;
    if (this.heldChars > maxChars || this.held.length > maxEvents) {
      this.releaseHeld();
      this.heldReleases += 1;
    }
  }

  /** The events held aside so far; from now on the next ones are held. */
  takeHeld(): StoredEvent[] {
    const held = this.held;
    this.releaseHeld();
    return held;
  }

  releaseHeld(): void {
    this.held = [];
    this.heldChars = 0;
  }
}
