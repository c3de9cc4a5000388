import fc from 'fast-check';
import { MIN_ATTEMPT_MS, RetryClock, RetryPolicy, withBoundedRetry } from './bounded-retry';

const DEFAULTS: RetryPolicy = {
  attemptTimeoutMs: 2000,
  maxAttempts: 3,
  retryBaseMs: 100,
  deadlineMs: 6000,
};

/** Virtual time: sleeping and timing out move the clock; nothing waits for real. */
class VirtualClock implements RetryClock {
  at = 0;
  constructor(private readonly jitter: () => number = () => 1 - 1e-9) {}
  now = () => this.at;
  sleep = async (ms: number) => {
    this.at += ms;
  };
  random = () => this.jitter();
}

class TimedOut extends Error {}
class Status extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

const retryable = (error: unknown) =>
  error instanceof TimedOut || (error instanceof Status && [429, 500, 503].includes(error.status));

/** An attempt against a server that never answers: it ends when its time limit does. */
function hanging(clock: VirtualClock, budgets: number[]) {
  return async (timeoutMs: number): Promise<never> => {
    budgets.push(timeoutMs);
    clock.at += Math.max(0, timeoutMs);
    throw new TimedOut();
  };
}

describe('withBoundedRetry (virtual clock)', () => {
  it('at the defaults, three attempts that all time out end at 6 s, not 6.3 s: the last is cut to what is left', async () => {
    const clock = new VirtualClock(); // the longest waits: 100 ms, then 200 ms
    const budgets: number[] = [];
    const result = await withBoundedRetry(DEFAULTS, hanging(clock, budgets), retryable, clock);
    expect(budgets).toEqual([2000, 2000, 6000 - (2000 + 100 + 2000 + 200)]);
    expect(result).toMatchObject({ ok: false, attempts: 3, durationMs: 6000 });
    expect(result.ok || result.error).toBeInstanceOf(TimedOut);
  });

  it('retries 429 and 5xx up to the number of attempts, with the waits in between', async () => {
    const clock = new VirtualClock(() => 0); // the shortest waits: 50 ms, then 100 ms
    const seenAt: number[] = [];
    const result = await withBoundedRetry(
      DEFAULTS,
      async () => {
        seenAt.push(clock.at);
        throw new Status(seenAt.length === 2 ? 503 : 429);
      },
      retryable,
      clock,
    );
    expect(seenAt).toEqual([0, 50, 150]);
    expect(result).toMatchObject({ ok: false, attempts: 3, error: { status: 429 } });
  });

  it('answers with the first success, and does not retry a final answer', async () => {
    const clock = new VirtualClock();
    let calls = 0;
    const success = await withBoundedRetry(
      DEFAULTS,
      async () => {
        calls += 1;
        if (calls === 1) throw new Status(500);
        return 'accepted';
      },
      retryable,
      clock,
    );
    expect(success).toMatchObject({ ok: true, value: 'accepted', attempts: 2 });
    const final = await withBoundedRetry(
      DEFAULTS,
      async () => {
        throw new Status(400);
      },
      retryable,
      new VirtualClock(),
    );
    expect(final).toMatchObject({ ok: false, attempts: 1, error: { status: 400 } });
  });

  it('does not start an attempt that the deadline leaves too little time for', async () => {
    const clock = new VirtualClock();
    const budgets: number[] = [];
    const policy = { ...DEFAULTS, deadlineMs: 2000 + 100 + MIN_ATTEMPT_MS - 1 };
    const result = await withBoundedRetry(policy, hanging(clock, budgets), retryable, clock);
    expect(budgets).toEqual([2000]);
    expect(result).toMatchObject({ ok: false, attempts: 1, durationMs: 2000 });
  });

  it('property: whatever the options, jitter and failures, nothing runs past the deadline', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          attemptTimeoutMs: fc.integer({ min: 1, max: 5000 }),
          maxAttempts: fc.integer({ min: 1, max: 8 }),
          retryBaseMs: fc.integer({ min: 1, max: 3000 }),
          deadlineMs: fc.integer({ min: 1, max: 20_000 }),
        }),
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), {
          minLength: 8,
          maxLength: 8,
        }),
        // Each attempt either hangs until its limit, or fails fast after some time of it.
        fc.array(fc.option(fc.double({ min: 0, max: 1, noNaN: true })), {
          minLength: 8,
          maxLength: 8,
        }),
        async (policy, jitters, behaviours) => {
          let n = 0;
          const clock = new VirtualClock(() => jitters[n % jitters.length]);
          const budgets: number[] = [];
          const result = await withBoundedRetry(
            policy,
            async (timeoutMs) => {
              budgets.push(timeoutMs);
              const share = behaviours[n++];
              clock.at += Math.max(0, timeoutMs) * (share ?? 1);
              throw share === null ? new TimedOut() : new Status(503);
            },
            retryable,
            clock,
          );
          expect(result.durationMs).toBeLessThanOrEqual(policy.deadlineMs + 1e-6);
          expect(result.attempts).toBeLessThanOrEqual(policy.maxAttempts);
          for (const budget of budgets) expect(budget).toBeLessThanOrEqual(policy.attemptTimeoutMs);
        },
      ),
      { numRuns: 500 },
    );
  });
});
