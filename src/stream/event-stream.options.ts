/** Options of `EventStreamModule.forRoot()` / `forRootAsync()`. */
export interface EventStreamOptions {
  /** URL path of the WebSocket endpoint. Default `/events`. */
  path?: string;
  /** Full-access token (the admin token). Unset with no `readTokens` either: the stream is off. */
  adminToken?: string;
  /** Tokens that may only read the stream (for dashboards), none of the admin API. */
  readTokens?: string[];
  /** A client whose unsent data stays over this is cut off (close 4008). Default 4 MiB. */
  maxBufferedBytes?: number;
  /** Largest message a client may send; bigger frames close the socket with 1009. Default 16 KiB. */
  maxMessageBytes?: number;
  /** Type patterns plus call ids one client may subscribe to. Default 256. */
  maxSubscriptions?: number;
  /** Ping interval; a client that has not answered the previous ping is dropped. Default 30 s. */
  heartbeatMs?: number;
}

export const DEFAULT_STREAM_PATH = '/events';
