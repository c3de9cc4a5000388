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
  /** SQLite durability: `full` (fsync per group commit, default) or `normal` (survives a process crash only). */
  synchronous?: SqliteSynchronous;
  /** Accepted clock difference for `webhook-timestamp`, both ways, in seconds. Default 300. */
  toleranceSeconds?: number;
  /** Larger webhook bodies are refused with 413 before any parsing. Default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * How long events (and so the memory of their `webhook-id`s) are kept, in hours. OpenAI
   * retries a delivery for up to 72 h, so values below 72 are refused. Default 168 (a week).
   */
  retentionHours?: number;
  /** Attempts per handler before its run is marked failed. Default 5. */
  handlerMaxAttempts?: number;
  /** First retry delay in ms; it doubles per attempt (with jitter), capped at 5 minutes. Default 1000. */
  handlerRetryBaseMs?: number;
  /** Bearer token for `GET /events`, `GET /events/:id`, `POST /events/:id/replay`. Unset: they are off. */
  adminToken?: string;
  /** Clock, injectable for tests. */
  now?: () => number;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const MIN_RETENTION_HOURS = 72;
