import WebSocket from 'ws';
import { StoredEvent } from '../webhooks/store/event-store';
import { StreamFilter } from './stream-protocol';

export type ClientState = 'idle' | 'catching_up' | 'live';

/** One connected subscriber: its filter, where it is in the sequence, and its socket. */
export class StreamClient {
  readonly filter = new StreamFilter();
  state: ClientState = 'idle';
  /** The highest sequence number this client has been given or passed over. */
  lastSeq = 0;
  /** Live events that arrive while the client catches up from the store. */
  pending: StoredEvent[] = [];
  alive = true;
  closed = false;

  constructor(readonly socket: WebSocket) {}

  get open(): boolean {
    return !this.closed && this.socket.readyState === WebSocket.OPEN;
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }
}
