// The live event stream (WebSocket at /events), with the same token as the API, in the URL as
// a browser must. After a drop it reconnects with `since` = the last sequence number it saw, so
// the server sends everything missed, in order, before the live events: no gap, no duplicate.

export interface StreamEvent {
  seq: number;
  source: 'openai' | 'switchboard';
  event: { id?: string; type: string; created_at?: number; data?: Record<string, unknown> };
}

export type StreamStatus = 'connecting' | 'live' | 'reconnecting';

export class EventStream {
  /** The last sequence number seen: where a reconnect resumes. */
  lastSeq: number | undefined;
  status: StreamStatus = 'connecting';
  reconnects = 0;
  private socket: WebSocket | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private delay = 250;
  private stopped = false;
  private readonly eventListeners = new Set<(event: StreamEvent) => void>();
  private readonly statusListeners = new Set<(status: StreamStatus) => void>();
  private readonly caughtUpListeners = new Set<(first: boolean) => void>();
  private caughtUpOnce = false;

  constructor(private readonly token: string) {}

  onEvent(listener: (event: StreamEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onStatus(listener: (status: StreamStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** After each catch-up (`first` for the connection that set the starting point). */
  onCaughtUp(listener: (first: boolean) => void): () => void {
    this.caughtUpListeners.add(listener);
    return () => this.caughtUpListeners.delete(listener);
  }

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.socket?.close(1000);
  }

  private open(): void {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const params = new URLSearchParams({ token: this.token, types: '*' });
    if (this.lastSeq !== undefined) params.set('since', String(this.lastSeq));
    const socket = new WebSocket(`${scheme}://${location.host}/events?${params}`);
    this.socket = socket;
    socket.onmessage = (message) => {
      const data = JSON.parse(String(message.data)) as
        ({ type: 'event' } & StreamEvent) | { type: 'caught_up'; seq: number } | { type: string };
      if (data.type === 'event') {
        const event = data as StreamEvent;
        if (this.lastSeq !== undefined && event.seq <= this.lastSeq) return;
        this.lastSeq = event.seq;
        this.eventListeners.forEach((listener) => listener(event));
      } else if (data.type === 'caught_up') {
        const seq = (data as { seq: number }).seq;
        if (this.lastSeq === undefined) this.lastSeq = seq;
        this.delay = 250;
        this.setStatus('live');
        const first = !this.caughtUpOnce;
        this.caughtUpOnce = true;
        this.caughtUpListeners.forEach((listener) => listener(first));
      }
    };
    socket.onclose = () => {
      if (this.socket !== socket || this.stopped) return;
      this.setStatus('reconnecting');
      this.reconnects++;
      this.retryTimer = setTimeout(() => this.open(), this.delay);
      this.delay = Math.min(this.delay * 2, 4000);
    };
  }

  private setStatus(status: StreamStatus): void {
    this.status = status;
    this.statusListeners.forEach((listener) => listener(status));
  }
}

/** The call an event is about: `data.call_id`, or a Live announcement's `data.session_id`. */
export function eventCallId(event: StreamEvent['event']): string | undefined {
  const id = event.data?.call_id ?? event.data?.session_id;
  return typeof id === 'string' ? id : undefined;
}
