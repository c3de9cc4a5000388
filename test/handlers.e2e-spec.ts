import { Injectable, Module } from '@nestjs/common';
import { BatchCompletedEvent } from '../src/batch/dto/batch-events.dto';
import { OnWebhookEvent } from '../src/webhooks/handlers/on-webhook-event.decorator';
import { WebhookEventContext } from '../src/webhooks/handlers/webhook-event-context';
import { unknownType, WebhookEventFor } from '../src/webhooks/handlers/webhook-event-pattern';
import { SwitchboardEventPublisher } from '../src/webhooks/switchboard-event.publisher';
import { sampleEvent } from './support/sample-events';
import { GenericModule } from '../src/generic/generic.module';
import { CollectingLogger } from './support/collecting-logger';
import { signDelivery } from './support/signing';
import { createTestApp, eventually, TestApp } from './support/test-app';

/** A log every handler below writes to, so ordering across handlers can be asserted. */
const journal: string[] = [];

@Injectable()
class BatchHandlers {
  @OnWebhookEvent('batch.completed')
  completed(event: BatchCompletedEvent): void {
    journal.push(`completed:${event.data.id}:${event instanceof BatchCompletedEvent}`);
  }

  @OnWebhookEvent(['batch.failed', 'batch.expired'])
  failedOrExpired(event: { type: string }): void {
    journal.push(`failed-or-expired:${event.type}`);
  }

  @OnWebhookEvent('batch.*')
  anyBatch(event: { type: string }): void {
    journal.push(`any-batch:${event.type}`);
  }
}

/** Holds the priority -10 handler until the test lets it go. */
let firstHeld: Promise<void> = Promise.resolve();

@Injectable()
class PriorityHandlers {
  @OnWebhookEvent('response.completed', { priority: -10 })
  async first(): Promise<void> {
    journal.push('first started');
    await firstHeld;
    journal.push('first');
  }

  @OnWebhookEvent('response.completed')
  second(): void {
    journal.push('second');
  }
}

@Injectable()
class FlakyHandlers {
  calls = 0;

  /** Fails twice, then succeeds: the third attempt completes the run. */
  @OnWebhookEvent('eval.run.failed', { maxAttempts: 5 })
  flaky(_event: unknown, context: WebhookEventContext): void {
    this.calls += 1;
    if (context.attempt < 3) throw new Error(`downstream unavailable (attempt ${context.attempt})`);
  }

  /** Always fails: the run ends as failed, with the error kept. */
  @OnWebhookEvent('eval.run.failed', { maxAttempts: 2 })
  broken(): void {
    throw new TypeError('cannot read the report');
  }

  /** Must still run although its neighbours fail. */
  @OnWebhookEvent('eval.run.failed')
  healthy(): void {
    journal.push('healthy');
  }
}

@Injectable()
class CallEventsListener {
  @OnWebhookEvent('call.*')
  onCallEvent(event: WebhookEventFor<'call.*'>, context: WebhookEventContext): void {
    journal.push(`${event.type}:${String(event.data?.call_id)}:${context.source}`);
  }
}

/** A feature module of the user's app, as it would be written: handlers in its providers. */
@Module({ providers: [BatchHandlers, PriorityHandlers, FlakyHandlers, CallEventsListener] })
class UserFeatureModule {}

/** The same provider also exposed under an alias must not be called twice. */
@Module({
  providers: [BatchHandlers, { provide: 'BATCH_ALIAS', useExisting: BatchHandlers }],
})
class AliasModule {}

describe.each([
  ['forRoot', false],
  ['forRootAsync', true],
])('handlers registered with @OnWebhookEvent (%s)', (_form, useAsync) => {
  let t: TestApp;

  beforeEach(async () => {
    journal.length = 0;
    t = await createTestApp({ imports: [UserFeatureModule], async: useAsync });
  });
  afterEach(() => t.close());

  const deliver = (type: string, overrides: Record<string, unknown> = {}) =>
    t.deliver(signDelivery(JSON.stringify(sampleEvent(type, overrides)))).expect(200);

  it('are discovered in a user module and receive the typed DTO', async () => {
    await deliver('batch.completed', { data: { id: 'batch_42' } });
    await eventually(() =>
      expect(journal.sort()).toEqual(['any-batch:batch.completed', 'completed:batch_42:true']),
    );
  });

  it('match a list of types and a prefix wildcard, and nothing else', async () => {
    await deliver('batch.expired');
    await deliver('fine_tuning.job.failed');
    await eventually(() =>
      expect(journal.sort()).toEqual([
        'any-batch:batch.expired',
        'failed-or-expired:batch.expired',
      ]),
    );
  });

  it('run a lower priority first, and the next only once it has finished', async () => {
    let release!: () => void;
    firstHeld = new Promise((resolve) => (release = resolve));
    await deliver('response.completed');
    // Handlers start before the 2xx: had 'second' not waited for 'first', it would have run.
    expect(journal).toEqual(['first started']);
    release();
    await eventually(() => expect(journal).toEqual(['first started', 'first', 'second']));
  });

  it('isolate failures, retry with backoff, and record every outcome in the store', async () => {
    const response = await deliver('eval.run.failed');
    const flaky = t.app.get(FlakyHandlers);
    await eventually(async () => {
      const event = await t.store.find(String(response.body.seq));
      const runs = Object.fromEntries(event!.runs.map((r) => [r.handler, r]));
      expect(runs['FlakyHandlers.healthy']).toMatchObject({ status: 'done', attempts: 1 });
      expect(runs['FlakyHandlers.flaky']).toMatchObject({ status: 'done', attempts: 3 });
      expect(runs['FlakyHandlers.broken']).toMatchObject({
        status: 'failed',
        attempts: 2,
        lastError: 'TypeError: cannot read the report',
      });
    });
    expect(flaky.calls).toBe(3);
    expect(journal).toEqual(['healthy']);
  });

  it("deliver Switchboard's own events through the same store and dispatch", async () => {
    const publisher = t.app.get(SwitchboardEventPublisher);
    const stored = await publisher.publish('call.accepted', { call_id: 'rtc_7' });
    await eventually(() => expect(journal).toEqual(['call.accepted:rtc_7:switchboard']));
    await eventually(async () => {
      const event = await t.store.find(stored.eventId);
      expect(event).toMatchObject({ source: 'switchboard', type: 'call.accepted' });
      expect(event!.runs).toEqual([
        expect.objectContaining({ handler: 'CallEventsListener.onCallEvent', status: 'done' }),
      ]);
    });
    // Own events and webhooks share one sequence.
    const next = await deliver('batch.failed');
    expect(next.body.seq).toBe(stored.seq + 1);
  });
});

@Injectable()
class AlwaysFailing {
  readonly attempts: number[] = [];

  @OnWebhookEvent('batch.cancelled', { maxAttempts: 11 })
  fail(_event: unknown, context: WebhookEventContext): void {
    this.attempts.push(context.attempt);
    throw new Error(`downstream still unavailable (attempt ${context.attempt})`);
  }
}

/** Yields to the real event loop (the store commits on setImmediate) until the check holds. */
async function until(check: () => boolean | Promise<boolean>, turns = 5000): Promise<void> {
  for (let turn = 0; turn < turns; turn++) {
    if (await check()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error('condition not met');
}

describe('the retry schedule (injected clock, fake timers)', () => {
  const NOMINAL = [1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000];
  let t: TestApp;

  afterEach(async () => {
    await t?.close();
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  it('waits half to all of 1 s x 2^(n-1) before retry n, capped at 5 min, and not a moment less', async () => {
    // Only setTimeout/setInterval are fake: the store commits on setImmediate, for real.
    jest.useFakeTimers({
      doNotFake: [
        'nextTick',
        'setImmediate',
        'clearImmediate',
        'queueMicrotask',
        'Date',
        'hrtime',
        'performance',
      ],
    });
    // The jitter's two extremes in turn: the least wait (half) and the longest (all).
    const extremes = NOMINAL.map((_, n) => (n % 2 === 0 ? 0 : 1 - 1e-9));
    const random = jest.spyOn(Math, 'random');
    for (const value of extremes) random.mockReturnValueOnce(value);
    let clock = Date.now(); // the verifier reads this clock too
    t = await createTestApp({
      providers: [AlwaysFailing],
      options: { now: () => clock, handlerRetryBaseMs: 1000 },
    });
    const handler = t.app.get(AlwaysFailing);
    const response = await t
      .deliver(signDelivery(JSON.stringify(sampleEvent('batch.cancelled'))))
      .expect(200);
    const run = async () => (await t.store.find(String(response.body.seq)))!.runs[0];

    const waits: number[] = [];
    for (let attempt = 1; attempt <= NOMINAL.length; attempt++) {
      await until(async () => (await run()).attempts === attempt);
      const recorded = await run();
      expect(recorded.status).toBe('retrying');
      const wait = recorded.nextAttemptAt! - clock;
      waits.push(wait);
      // One millisecond early, nothing; at the time the store announced, the next attempt.
      await jest.advanceTimersByTimeAsync(wait - 1);
      expect(handler.attempts).toHaveLength(attempt);
      clock += wait;
      await jest.advanceTimersByTimeAsync(1);
      await until(() => handler.attempts.length === attempt + 1);
    }
    expect(waits).toEqual(NOMINAL.map((nominal, n) => (n % 2 === 0 ? nominal / 2 : nominal)));
    await until(async () => (await run()).status === 'failed');
    expect(await run()).toMatchObject({ status: 'failed', attempts: 11 });
    expect(handler.attempts).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });
});

/** Runs after every priority-0 handler of batch.completed has settled, outcome recorded. */
@Injectable()
class AfterBatchHandlers {
  @OnWebhookEvent('batch.completed', { priority: 1 })
  after(event: BatchCompletedEvent): void {
    journal.push(`after:${event.data.id}`);
  }
}

@Module({ providers: [AfterBatchHandlers] })
class AfterBatchModule {}

describe('a handler that succeeded but whose completion could not be recorded', () => {
  it('is not retried as if it had failed: the run stays open for the next start', async () => {
    journal.length = 0;
    const t = await createTestApp({ imports: [UserFeatureModule, AfterBatchModule] });
    try {
      const record = t.store.recordAttempt.bind(t.store);
      let failNext = true;
      t.store.recordAttempt = async (seq, handler, outcome) => {
        if (failNext && handler === 'BatchHandlers.completed') {
          failNext = false;
          throw new Error('disk full');
        }
        return record(seq, handler, outcome);
      };
      const response = await t
        .deliver(
          signDelivery(JSON.stringify(sampleEvent('batch.completed', { data: { id: 'b9' } }))),
        )
        .expect(200);
      // The next priority starts once the first group has settled, its outcomes written: had
      // the lost record been taken for a failure, the run would now be 'retrying'.
      await eventually(() => expect(journal).toContain('after:b9'));
      const runs = (await t.store.find(String(response.body.seq)))!.runs;
      expect(runs.find((r) => r.handler === 'BatchHandlers.completed')).toMatchObject({
        status: 'pending',
        attempts: 0,
        lastError: null,
      });
      expect(journal.filter((line) => line.startsWith('completed:'))).toEqual([
        'completed:b9:true',
      ]);
    } finally {
      await t.close();
    }
  });
});

describe('a provider exported under an alias', () => {
  it('is registered once, so its handler runs once', async () => {
    journal.length = 0;
    const t = await createTestApp({ imports: [AliasModule] });
    try {
      await t
        .deliver(
          signDelivery(JSON.stringify(sampleEvent('batch.completed', { data: { id: 'b1' } }))),
        )
        .expect(200);
      // One run per handler name, each done once: a second registration would be a second run.
      await eventually(async () => {
        const event = (await t.store.list({ limit: 1 }))[0];
        const runs = (await t.store.find(String(event.seq)))!.runs;
        expect(runs.map((r) => [r.handler, r.status, r.attempts])).toEqual([
          ['BatchHandlers.anyBatch', 'done', 1],
          ['BatchHandlers.completed', 'done', 1],
        ]);
      });
      expect(journal.sort()).toEqual(['any-batch:batch.completed', 'completed:b1:true']);
    } finally {
      await t.close();
    }
  });
});

describe('@OnWebhookEvent', () => {
  it('refuses a pattern that can never match, at declaration', () => {
    // Plain JavaScript (or a cast) gets past the compiler; the decorator still refuses these.
    expect(() => OnWebhookEvent('batch.*.completed' as 'batch.*')).toThrow('is not an event type');
    expect(() => OnWebhookEvent('' as '*')).toThrow('is not an event type');
  });
});

describe('patterns that match no known type', () => {
  @Injectable()
  class HandlersWithTypos {
    // The escape, used for what is really a typo.
    @OnWebhookEvent(unknownType('batch.complete'))
    escaped(): void {}

    // What plain JavaScript (or a cast) lets through.
    @OnWebhookEvent('realtime.call.ended' as 'realtime.call.incoming')
    untyped(): void {}

    @OnWebhookEvent('fine_tuning.jobs.*' as 'fine_tuning.job.*')
    wildcardTypo(): void {}

    @OnWebhookEvent(['batch.completed', 'call.*', '*'])
    known(): void {}
  }

  it('warns at start-up, naming the handler and the nearest known type', async () => {
    const logger = new CollectingLogger();
    const t = await createTestApp({ providers: [HandlersWithTypos], logger });
    try {
      const warnings = logger.lines.filter((line) => line.level === 'warn');
      expect(warnings.map((line) => line.message)).toEqual([
        'HandlersWithTypos.escaped: "batch.complete" matches no event type Switchboard knows (did you mean "batch.completed"?); it runs only if an event of such a type arrives',
        'HandlersWithTypos.untyped: "realtime.call.ended" matches no event type Switchboard knows; it runs only if an event of such a type arrives',
        'HandlersWithTypos.wildcardTypo: "fine_tuning.jobs.*" matches no event type Switchboard knows (did you mean "fine_tuning.job.*"?); it runs only if an event of such a type arrives',
      ]);
    } finally {
      await t.close();
    }
  });
});

describe("the service's own domain handlers", () => {
  it('take an event of a type OpenAI added later, with no data, without failing', async () => {
    const t = await createTestApp({ imports: [GenericModule] });
    try {
      const body = JSON.stringify({
        id: 'evt_paused',
        object: 'event',
        created_at: 1,
        type: 'batch.paused',
      });
      await t.deliver(signDelivery(body)).expect(200);
      await eventually(async () =>
        expect((await t.store.find('evt_paused'))?.runs).toEqual([
          expect.objectContaining({ handler: 'BatchEventsHandler.log', status: 'done' }),
        ]),
      );
    } finally {
      await t.close();
    }
  });

  it('refuses a priority that is not a finite number, at declaration', () => {
    for (const priority of [Number.NEGATIVE_INFINITY, Number.NaN]) {
      expect(() => OnWebhookEvent('batch.completed', { priority })).toThrow(
        'priority must be a finite number',
      );
    }
  });
});
