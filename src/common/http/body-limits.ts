/** Bounds on reading one request body: anyone can send one, signed or not. */
export interface BodyLimits {
  /** Larger bodies are refused with 413: at once from Content-Length, else as they grow past it. */
  maxBytes: number;
  /** A body that has not arrived whole this long after its headers is refused with 408. */
  timeoutMs: number;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;
