import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { LogLine } from '../../common/log-line';
import { SwitchboardMetrics } from '../../metrics/switchboard-metrics';
import { parseWebhookEvent } from '../../events/webhook-event.parser';
import { EVENT_STORE, EventStore, OpenRun, RunKey, StoredEvent } from '../store/event-store';
import { WEBHOOKS_MODULE_OPTIONS } from '../webhooks.module-definition';
import { WebhooksModuleOptions } from '../webhooks.options';
import { RegisteredHandler, WebhookHandlerRegistry } from './webhook-handler.registry';

const MAX_RETRY_DELAY_MS = 5 * 60 * 1000;
const MAX_ERROR_LENGTH = 2000;
/** Runs claimed per look for runs that nobody holds. */
const CLAIM_BATCH = 100;

/**
 * Hands stored events to their handlers: by priority group, each handler isolated from the
 * others, each failure recorded and retried with exponential backoff up to a bound. Runs left
 * open by a crash are picked up again at start-up.
 *
 * Each run is held by one instance at a time (see `EventStore.claimRuns`): this one holds the
 * runs of the events it stores or replays and those it claims. With a store shared by several
 * instances (`runLeaseMs` set), it renews its holds a few times per lease, lets go of the runs
 * another instance took over, and claims the runs of instances that stopped renewing theirs.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WebhookDispatcher.name);
  /** Retries waiting to run, by run. */
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  /** The runs this instance holds: running, or waiting for their next attempt. */
  private readonly held = new Map<string, RunKey>();
  private leaseTimer?: NodeJS.Timeout;
  private leaseTick?: Promise<void>;
  private stopListening?: () => void;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private readonly now: () => number;
  private stopped = false;
  private draining?: Promise<void>;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly registry: WebhookHandlerRegistry,
    @Inject(WEBHOOKS_MODULE_OPTIONS) options: WebhooksModuleOptions,
    @Optional() private readonly metrics?: SwitchboardMetrics,
  ) {
    this.maxAttempts = options.handlerMaxAttempts ?? 5;
    this.retryBaseMs = options.handlerRetryBaseMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /** Names of the handlers that will receive an event of this type (stored with the event). */
  handlerKeysFor(type: string): string[] {
    return this.registry.handlersFor(type).map((h) => h.key);
  }

  /** Runs the given handlers (all that match, by default) on an event that is already stored. */
  dispatch(
    event: StoredEvent,
    dto: object,
    handlerKeys?: readonly string[],
    attemptsSoFar = 0,
  ): Promise<void> {
    const handlers = this.registry
      .handlersFor(event.type)
      .filter((h) => handlerKeys === undefined || handlerKeys.includes(h.key));
    for (const handler of handlers) this.hold(event.seq, handler.key);
    const work = this.runInPriorityOrder(event, dto, handlers, attemptsSoFar);
    this.track(work);
    return work;
  }

  /** Work that shutdown waits for. */
  private track(work: Promise<unknown>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  async onApplicationBootstrap(): Promise<void> {
    const resumed = await this.claimAndResume();
    if (resumed > 0) {
      this.logger.log(`resuming ${resumed} unfinished handler run(s) left by an earlier process`);
    }
    const leaseMs = this.store.runLeaseMs;
    if (leaseMs === null || this.stopped) return;
    const tick = () => {
      if (this.stopped) return;
      this.leaseTick ??= this.renewAndClaim().finally(() => (this.leaseTick = undefined));
    };
    this.leaseTimer = setInterval(tick, Math.max(1, Math.floor(leaseMs / 3)));
    this.leaseTimer.unref();
    // An instance that drains hands its runs back: claim them now, not at the next tick.
    this.stopListening = this.store.onRunsReleased?.(tick);
  }

  /**
   * Keeps this instance's runs held, drops the retries of those another instance took over (this
   * one stopped renewing in time: a long pause, a lost connection), and claims what others left.
   */
  private async renewAndClaim(): Promise<void> {
    try {
      const lost = await this.store.renewLeases([...this.held.values()]);
      for (const run of lost) {
        this.logger.warn(
          `handler run ${run.handler} on event #${run.seq} was taken over by another instance; its retries here are cancelled`,
        );
        this.release(run.seq, run.handler);
      }
      const taken = await this.claimAndResume();
      if (taken > 0) {
        this.logger.log(
          `took over ${taken} handler run(s) whose instance stopped renewing their lease`,
        );
      }
    } catch (error) {
      this.logger.error(`renewing or claiming handler runs failed: ${describe(error)}`);
    }
  }

  /** Claims the runs nobody holds and resumes them; how many. */
  private async claimAndResume(): Promise<number> {
    let resumed = 0;
    for (;;) {
      if (this.stopped) return resumed;
      const claimed = await this.store.claimRuns(CLAIM_BATCH);
      // A run already held here (its lease lapsed while it ran) goes on as it is.
      const open = claimed.filter((run) => !this.held.has(runKey(run.event.seq, run.handler)));
      resumed += open.length;
      await this.resumeAll(open);
      if (claimed.length < CLAIM_BATCH) return resumed;
    }
  }

  private async resumeAll(open: OpenRun[]): Promise<void> {
    for (const runs of byEvent(open)) {
      const event = runs[0].event;
      const dto = this.rehydrate(event);
      const first: Resumed[] = [];
      const rest: Resumed[] = [];
      for (const run of runs) {
        const handler = this.registry.byKey(run.handler);
        if (dto && handler) {
          this.hold(event.seq, run.handler);
          (handler.first ? first : rest).push({ run, handler });
          continue;
        }
        await this.store.recordAttempt(event.seq, run.handler, {
          status: 'failed',
          error: handler
            ? 'stored payload no longer parses'
            : 'handler no longer exists in this application',
        });
      }
      if (dto) this.resume(event, dto, first, rest);
    }
  }

  /** As on arrival, the first stage (a call's routing) runs, at once, before the others. */
  private resume(event: StoredEvent, dto: object, first: Resumed[], rest: Resumed[]): void {
    const decided = Promise.all(
      first.map(({ run, handler }) => this.runOne(event, dto, handler, run.attempts)),
    );
    this.track(decided);
    void decided.then(() => {
      for (const { run, handler } of rest) {
        const delay = Math.max(0, (run.nextAttemptAt ?? 0) - this.now());
        this.schedule(event.seq, handler.key, delay, () =>
          this.runOne(event, dto, handler, run.attempts),
        );
      }
    });
  }

  /** Waits (bounded) for handlers in flight; pending retries stay in the store for the next start. */
  onApplicationShutdown(): Promise<void> {
    return this.drain();
  }

  /**
   * Stops starting handlers and waits (bounded) for those in flight; pending retries stay in
   * the store for the next start. Idempotent: modules whose stores handlers use (the calls
   * module) await it before they close them, whatever order Nest runs their hooks in.
   */
  drain(): Promise<void> {
    this.draining ??= (async () => {
      this.stopped = true;
      clearInterval(this.leaseTimer);
      this.stopListening?.();
      // Runs waiting for a retry are not running: they can go to another instance.
      const waiting = [...this.retryTimers.keys()].flatMap((key) => this.held.get(key) ?? []);
      for (const timer of this.retryTimers.values()) clearTimeout(timer);
      this.retryTimers.clear();
      const settled = await Promise.race([
        Promise.allSettled([...this.inFlight]).then(() => true),
        delay(10_000).then(() => false),
      ]);
      // Once nothing runs here, every run still held is let go (a handler still running
      // past the bound keeps its own until its lease passes: it may yet finish).
      await this.releaseHeld(settled ? [...this.held.values()] : waiting);
    })();
    return this.draining;
  }

  /**
   * With a store shared by several instances, the runs this one will not finish are handed
   * back at once rather than when their lease passes: a survivor takes them at its next look.
   */
  private async releaseHeld(runs: RunKey[]): Promise<void> {
    if (runs.length === 0 || !this.store.releaseRuns) return;
    try {
      await this.store.releaseRuns(runs);
      this.logger.log(`handed back ${runs.length} handler run(s) for another instance to take`);
    } catch (error) {
      this.logger.warn(
        `could not hand back ${runs.length} handler run(s); another instance takes them once their lease passes: ${describe(error)}`,
      );
    }
    for (const run of runs) this.held.delete(runKey(run.seq, run.handler));
  }

  /** Parses a stored payload back into its DTO (after a restart or for a replay). */
  rehydrate(event: StoredEvent): object | undefined {
    // The same delivery facts as on arrival: an envelope replaced then is replaced alike.
    const parsed = parseWebhookEvent(event.payload, {
      webhookId: event.webhookId,
      receivedAt: event.receivedAt,
    });
    return parsed.ok ? parsed.event : undefined;
  }

  private async runInPriorityOrder(
    event: StoredEvent,
    dto: object,
    handlers: RegisteredHandler[],
    attemptsSoFar: number,
  ): Promise<void> {
    let index = 0;
    while (index < handlers.length) {
      const { first, priority } = handlers[index];
      const group: RegisteredHandler[] = [];
      while (
        index < handlers.length &&
        handlers[index].first === first &&
        handlers[index].priority === priority
      )
        group.push(handlers[index++]);
      await Promise.all(group.map((handler) => this.runOne(event, dto, handler, attemptsSoFar)));
    }
  }

  private async runOne(
    event: StoredEvent,
    dto: object,
    handler: RegisteredHandler,
    attemptsSoFar: number,
  ) {
    if (this.stopped) return;
    const attempt = attemptsSoFar + 1;
    const started = performance.now();
    const observe = (outcome: 'done' | 'failed') =>
      this.metrics?.handlerDuration.observe(
        { handler: handler.key, outcome },
        (performance.now() - started) / 1000,
      );
    try {
      await handler.invoke(dto, {
        seq: event.seq,
        webhookId: event.webhookId,
        source: event.source,
        attempt,
        receivedAt: event.receivedAt,
      });
    } catch (caught) {
      observe('failed');
      this.metrics?.handlerFailures.inc({ handler: handler.key });
      await this.recordFailure(event, dto, handler, attempt, caught);
      return;
    }
    observe('done');
    try {
      await this.store.recordAttempt(event.seq, handler.key, { status: 'done' });
      this.release(event.seq, handler.key);
    } catch (storeError) {
      // The handler succeeded; only the record of it failed. Not a handler failure: the run
      // stays open in the store, and once its hold lapses it is claimed and run again (at the
      // next start, or by another instance sharing the store).
      this.release(event.seq, handler.key);
      this.logger.error(
        `${handler.key} finished event ${event.eventId} but its completion could not be recorded: ${describe(storeError)}`,
      );
    }
  }

  private async recordFailure(
    event: StoredEvent,
    dto: object,
    handler: RegisteredHandler,
    attempt: number,
    caught: unknown,
  ): Promise<void> {
    const error = describe(caught);
    const maxAttempts = handler.maxAttempts ?? this.maxAttempts;
    try {
      if (attempt >= maxAttempts) {
        this.logger.error(
          new LogLine('handler failed, giving up', {
            handler: handler.key,
            event_id: event.eventId,
            seq: event.seq,
            attempts: attempt,
            error,
          }),
        );
        await this.store.recordAttempt(event.seq, handler.key, { status: 'failed', error });
        this.release(event.seq, handler.key);
        return;
      }
      const wait = backoff(this.retryBaseMs, attempt);
      this.logger.warn(
        new LogLine('handler failed, retrying', {
          handler: handler.key,
          event_id: event.eventId,
          seq: event.seq,
          attempt: `${attempt}/${maxAttempts}`,
          retry_in_ms: wait,
          error,
        }),
      );
      await this.store.recordAttempt(event.seq, handler.key, {
        status: 'retrying',
        error,
        nextAttemptAt: this.now() + wait,
      });
      this.schedule(event.seq, handler.key, wait, () => this.runOne(event, dto, handler, attempt));
    } catch (storeError) {
      // The run stays open in the store and is claimed again once its hold lapses.
      this.release(event.seq, handler.key);
      this.logger.error(
        `could not record the outcome of ${handler.key} on ${event.eventId}: ${describe(storeError)}`,
      );
    }
  }

  private schedule(seq: number, handler: string, wait: number, run: () => Promise<void>): void {
    if (this.stopped) return;
    const key = runKey(seq, handler);
    clearTimeout(this.retryTimers.get(key));
    const timer = setTimeout(() => {
      this.retryTimers.delete(key);
      this.track(run());
    }, wait);
    timer.unref();
    this.retryTimers.set(key, timer);
  }

  private hold(seq: number, handler: string): void {
    this.held.set(runKey(seq, handler), { seq, handler });
  }

  /** This instance no longer holds the run: finished, or its next attempt is another's. */
  private release(seq: number, handler: string): void {
    const key = runKey(seq, handler);
    this.held.delete(key);
    clearTimeout(this.retryTimers.get(key));
    this.retryTimers.delete(key);
  }
}

function runKey(seq: number, handler: string): string {
  return `${seq}\u0000${handler}`;
}

/**
 * The wait before the retry that follows failed attempt `attempt`: a random time between half
 * and all of `baseMs` × 2^(attempt-1), that nominal delay capped at 5 minutes. The random half
 * keeps the retries of many events from landing together; the fixed half keeps a retry from
 * coming at once.
 */
function backoff(baseMs: number, attempt: number): number {
  const nominal = Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** (attempt - 1));
  return Math.round(nominal / 2 + Math.random() * (nominal / 2));
}

interface Resumed {
  run: OpenRun;
  handler: RegisteredHandler;
}

/** Open runs grouped by their event, in sequence order. */
function byEvent(open: OpenRun[]): OpenRun[][] {
  const groups = new Map<number, OpenRun[]>();
  for (const run of open) {
    const group = groups.get(run.event.seq);
    if (group) group.push(run);
    else groups.set(run.event.seq, [run]);
  }
  return [...groups.values()];
}

function describe(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.slice(0, MAX_ERROR_LENGTH);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
