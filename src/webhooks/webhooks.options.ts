import { EventStore } from './store/event-store';
import { SqliteSynchronous } from './store/sqlite-event-store';

/** Options of `WebhooksModule.forRoot()` / `forRootAsync()`. */
export interface WebhooksModuleOptions {
  /**
   * Standard Webhooks signing secret(s) (`whsec_...`), a list or a comma-separated string:
   * during a rotation, a delivery signed with any one of them is accepted.
   */
  secrets: string | string[];
  /** Directory of the embedded SQLite store (`<dataDir>/switchboard.db`). Default `./data`. */
  dataDir?: string;
  /** Use this store instead of the embedded one (a networked store, or one shared by tests). */
  store?: EventStore;
  /**
   * `postgres://...`: keep events and handler runs in PostgreSQL, shared by every instance
   * started with the same URL (the schema is the connection's: `?options=-c search_path=...`).
   * Unset: the embedded SQLite store under `dataDir`.
   */
  databaseUrl?: string;
  /**
   * With `databaseUrl`: how long an instance holds a handler run without renewing it (default
   * 30,000 ms). A dead instance's runs are taken over by another this long after its last renewal.
   */
  runLeaseMs?: number;
  /** SQLite durability: `full` (fsync per group commit, default) or `normal` (survives a process crash only). */
  synchronous?: SqliteSynchronous;
  /** Accepted clock difference for `webhook-timestamp`, both ways, in seconds. Default 300. */
  toleranceSeconds?: number;
  /**
   * Larger webhook bodies are refused with 413: at once from Content-Length, else as soon as
   * the body grows past it; the rest is never read. Default 1 MiB.
   */
  maxBodyBytes?: number;
  /** A webhook body not arrived whole this long after its headers is refused with 408. Default 10,000 ms. */
  bodyTimeoutMs?: number;
  /**
   * How long events (and so the memory of their `webhook-id`s) are kept, in hours. OpenAI
   * retries a delivery for up to 72 h, so values below 72 are refused. Default 168 (a week).
   */
  retentionHours?: number;
  /** Attempts per handler before its run is marked failed. Default 5. */
  handlerMaxAttempts?: number;
  /**
   * Nominal first retry delay in ms; it doubles per attempt, capped at 5 minutes, and each wait
   * is a random time between half and all of it (default 1000: 0.5-1 s, then 1-2 s, 2-4 s...).
   */
  handlerRetryBaseMs?: number;
  /** Bearer token for `GET /events`, `GET /events/:id`, `POST /events/:id/replay`. Unset: they are off. */
  adminToken?: string;
  /** Clock, injectable for tests. */
  now?: () => number;
}

export { DEFAULT_MAX_BODY_BYTES } from '../common/http/body-limits';
export const MIN_RETENTION_HOURS = 72;
