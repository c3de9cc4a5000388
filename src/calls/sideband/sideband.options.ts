/** `CallsModule.forRoot({ sideband })`: the call after it is answered. */
export interface SidebandOptions {
  /**
   * Sidebands open at once on this instance (`SIDEBAND_MAX_CALLS`). A call answered beyond it is
   * still routed and answered, without a sideband (`sideband.state: not_opened`, with a note):
   * no greeting, tools, transcripts or end. Default 1000; 0 opens none.
   */
  maxCalls?: number;
  /** First wait before reconnecting a dropped sideband; doubles, with jitter. Default 250 ms. */
  reconnectBaseMs?: number;
  /** Longest wait between reconnects. Default 2000 ms. */
  reconnectMaxMs?: number;
  /**
   * A sideband that cannot reconnect for this long ends the call in the record as
   * `connection_lost` (inferred). Default 15000 ms.
   */
  reconnectWindowMs?: number;
  /** One connection attempt's limit. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** Transcript pieces with nothing more for this long make a turn (Live). Default 1500 ms. */
  turnIdleMs?: number;
  /**
   * How long this instance's hold on its sidebands lasts without renewal (`SIDEBAND_LEASE_MS`);
   * renewed, for all its calls in one statement, every third of it. When the owner dies, another
   * instance (or the owner restarted) adopts its calls within this time; on shutdown it lets go
   * at once. Default 10000 ms.
   */
  leaseMs?: number;
  /**
   * Mask all but the last four digits of numbers said or keyed, in transcripts and DTMF.
   * Default: as `redactCallerIds` (`LOG_REDACT_SIP`).
   */
  redactNumbers?: boolean;
}

export const SIDEBAND_DEFAULTS = {
  maxCalls: 1000,
  reconnectBaseMs: 250,
  reconnectMaxMs: 2000,
  reconnectWindowMs: 15_000,
  connectTimeoutMs: 5000,
  turnIdleMs: 1500,
  leaseMs: 10_000,
};

export const MIN_SIDEBAND_LEASE_MS = 300;
export const MAX_SIDEBAND_LEASE_MS = 600_000;

export const MAX_SIDEBAND_CALLS = 100_000;
