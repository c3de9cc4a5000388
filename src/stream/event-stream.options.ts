/** Options of `EventStreamModule.forRoot()` / `forRootAsync()`. */
export interface EventStreamOptions {
  /** URL path of the WebSocket endpoint. Default `/events`. */
  path?: string;
  /** Full-access token (the admin token). Unset with no `readTokens` either: the stream is off. */
  adminToken?: string;
  /** Tokens that may only read the stream (for dashboards), none of the admin API. */
  readTokens?: string[];
  /**
   * A client with more than this waiting to be sent is cut off (close 4008) and what waited is
   * dropped. A catch-up goes at the client's pace and never counts against it. Default 4 MiB.
   */
  maxBufferedBytes?: number;
  /** Largest message a client may send; bigger frames close the socket with 1009. Default 16 KiB. */
  maxMessageBytes?: number;
  /** Type patterns plus call ids one client may subscribe to. Default 256. */
  maxSubscriptions?: number;
  /** Ping interval; a client that has not answered the previous ping is dropped. Default 30 s. */
  heartbeatMs?: number;
}

/** The documented defaults (README, "The live event stream"). */
export const STREAM_DEFAULTS = {
  path: '/events',
  maxBufferedBytes: 4 * 1024 * 1024,
  maxMessageBytes: 16 * 1024,
  maxSubscriptions: 256,
  heartbeatMs: 30_000,
} as const;
