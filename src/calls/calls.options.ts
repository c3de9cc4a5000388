import { CallControlOptions } from './control/call-control.client';
import { SqliteSynchronous } from '../webhooks/store/sqlite-synchronous';
import { CallStore } from './store/call-store';
import { SidebandOptions } from './sideband/sideband.options';

/** Options of `CallsModule.forRoot()` / `forRootAsync()`. */
export interface CallsModuleOptions {
  /**
   * A YAML or JSON rules file. When set, the file is the one source of truth: it is watched and
   * reloaded on change, and the REST API can read and try rules but not change them.
   * When unset, the rules live in the store and the REST API manages them.
   */
  rulesFile?: string;
  /** Rules to start from when `rulesFile` is unset and the store holds none yet. */
  seedRulesFile?: string;
  /** Directory of `calls.db`. Default `./data`. */
  dataDir?: string;
  /** Use this store instead of the embedded one. */
  store?: CallStore;
  /**
   * `postgres://...`: keep call records and the API's rules in PostgreSQL, shared by every
   * instance started with the same URL (give `WebhooksModule` the same one). Unset: `calls.db`
   * under `dataDir`.
   */
  databaseUrl?: string;
  /**
   * SQLite durability of `calls.db`: `full` (fsync per commit, default) or `normal` (survives a
   * process crash only). Give it the event store's setting.
   */
  synchronous?: SqliteSynchronous;
  /** OpenAI call control; without `apiKey`, actions are decided and recorded but not sent. */
  callControl?: CallControlOptions;
  /**
   * Larger JSON bodies of the rules and calls APIs are refused with 413, at once from
   * Content-Length, else as soon as the body grows past it. Default 1 MiB.
   */
  maxBodyBytes?: number;
  /** A body of the rules and calls APIs not arrived whole this long after its headers gets 408. Default 10,000 ms. */
  bodyTimeoutMs?: number;
  /**
   * A call announced on one surface whose decision prefers the other (an accept on Live when
   * only `realtime.call.incoming` has arrived, say) waits this long, counted from the first
   * announcement, for the other surface's announcement, then takes the surface it has (or the
   * rule's fallback). No other call waits. 0 to 5000 ms; default 300.
   */
  twinWaitMs?: number;
  /**
   * The call after it is answered: a sideband WebSocket per call (greeting, tools, transcripts,
   * DTMF, transfers, the end), at most `maxCalls` at once. Needs `callControl.apiKey`.
   */
  sideband?: SidebandOptions;
  /**
   * How long a `@CallTool` handler may run before the model is told it timed out and the
   * handler's `ctx.signal` aborts; a tool's own `timeoutMs` overrides it. Default 10,000 ms
   * (`CALL_TOOL_TIMEOUT_MS` in the service).
   */
  toolTimeoutMs?: number;
  /** Mask caller and called numbers in log lines (keep the last four characters). */
  redactCallerIds?: boolean;
  /** Clock for time windows, injectable for tests. */
  now?: () => Date;
}
