import WebSocket from 'ws';

/**
 * What is on its way to one client. `ws` cannot take back data it has been handed, and a close
 * frame goes out behind all of it; so the socket is handed only a little at a time (up to
 * `socketHighWater` bytes unwritten) and the rest waits here, in order, where it can be dropped.
 * Cutting a client off then costs it at most that little before the close frame.
 */
export class ClientOutbox {
  private readonly messages: string[] = [];
  private readonly sizes: number[] = [];
  /** Index of the oldest waiting message (the arrays are compacted once it is past half). */
  private head = 0;
  private waitingBytes = 0;
  private roomWaiters: { belowBytes: number; resolve: () => void }[] = [];

  constructor(
    private readonly socket: WebSocket,
    private readonly socketHighWater: number,
  ) {}

  /** Bytes waiting here, not yet handed to the socket. */
  get queuedBytes(): number {
    return this.waitingBytes;
  }

  get isEmpty(): boolean {
    return this.head === this.messages.length;
  }

  /** Queues a message behind the others and hands the socket what it has room for. */
  push(text: string, bytes: number): void {
    if (this.isEmpty && this.socketHasRoom()) {
      this.socket.send(text, this.onWritten);
      return;
    }
    this.messages.push(text);
    this.sizes.push(bytes);
    this.waitingBytes += bytes;
    this.flush();
  }

  /** Resolves once fewer than `belowBytes` wait here, or the outbox is dropped. */
  room(belowBytes: number): Promise<void> {
    if (this.waitingBytes < belowBytes) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push({ belowBytes, resolve }));
  }

  /** Forgets everything waiting (the client is being closed) and releases whoever waits. */
  drop(): void {
    this.messages.length = 0;
    this.sizes.length = 0;
    this.head = 0;
    this.waitingBytes = 0;
    for (const waiter of this.roomWaiters.splice(0)) waiter.resolve();
  }

  private socketHasRoom(): boolean {
    return (
      this.socket.readyState === WebSocket.OPEN && this.socket.bufferedAmount < this.socketHighWater
    );
  }

  private flush(): void {
    while (!this.isEmpty && this.socketHasRoom()) {
      const text = this.messages[this.head];
      this.waitingBytes -= this.sizes[this.head];
      this.head += 1;
      this.socket.send(text, this.onWritten);
    }
    if (this.isEmpty) {
      this.messages.length = 0;
      this.sizes.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.messages.length) {
      this.messages.splice(0, this.head);
      this.sizes.splice(0, this.head);
      this.head = 0;
    }
    if (this.roomWaiters.length > 0) {
      const waiting = this.roomWaiters;
      this.roomWaiters = [];
      for (const waiter of waiting) {
        if (this.waitingBytes < waiter.belowBytes) waiter.resolve();
        else this.roomWaiters.push(waiter);
      }
    }
  }

  /** The socket wrote a message out: it may have room for more. */
  private readonly onWritten = (error?: Error): void => {
    if (!error && !this.isEmpty) this.flush();
  };
}
