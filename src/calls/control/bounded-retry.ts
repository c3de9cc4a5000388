/** How call control retries: a few quick attempts, all inside one deadline (the caller waits). */
export interface RetryPolicy {
  /** One attempt's time limit, when the deadline leaves that much. */
  attemptTimeoutMs: number;
  /** Attempts in all. */
  maxAttempts: number;
  /** Nominal first retry delay; doubles per retry; each wait is half to all of it. */
  retryBaseMs: number;
  /** Nothing runs past this much time after the first attempt started: not an attempt, not a wait. */
  deadlineMs: number;
}

/** Time, injectable so that the schedule can be checked without waiting for it. */
export interface RetryClock {
  now(): number;
  sleep(ms: number): Promise<void>;
  /** In [0, 1): the jitter. */
  random(): number;
}

export const REAL_CLOCK: RetryClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random(),
};

/** An attempt shorter than this is not worth starting: the answer could not arrive in time. */
export const MIN_ATTEMPT_MS = 100;

export type RetryResult<T> =
  | { ok: true; value: T; attempts: number; durationMs: number }
  | { ok: false; error: unknown; attempts: number; durationMs: number };

/**
 * Runs `attempt` until it succeeds, fails for good, runs out of attempts, or would run past the
 * deadline. Each attempt is given `min(attemptTimeoutMs, time left)` as its time limit, and a
 * retry starts only when, after its wait, at least MIN_ATTEMPT_MS is left: so the last attempt
 * ends by the deadline, whatever the options, provided `attempt` honours its time limit.
 */
export async function withBoundedRetry<T>(
  policy: RetryPolicy,
  attempt: (timeoutMs: number) => Promise<T>,
  retryable: (error: unknown) => boolean,
  clock: RetryClock = REAL_CLOCK,
): Promise<RetryResult<T>> {
  const started = clock.now();
  const elapsed = () => clock.now() - started;
  const left = () => policy.deadlineMs - elapsed();
  for (let attempts = 1; ; attempts++) {
    try {
      const value = await attempt(Math.min(policy.attemptTimeoutMs, left()));
      return { ok: true, value, attempts, durationMs: elapsed() };
    } catch (error) {
      const wait = retryDelay(policy.retryBaseMs, attempts, clock.random());
      const giveUp =
        !retryable(error) || attempts >= policy.maxAttempts || left() - wait < MIN_ATTEMPT_MS;
      if (giveUp) return { ok: false, error, attempts, durationMs: elapsed() };
      await clock.sleep(wait);
    }
  }
}

/** The wait after failed attempt `attempt`: half to all of `baseMs` × 2^(attempt-1). */
export function retryDelay(baseMs: number, attempt: number, random: number): number {
  const nominal = baseMs * 2 ** (attempt - 1);
  return Math.round(nominal / 2 + random * (nominal / 2));
}
