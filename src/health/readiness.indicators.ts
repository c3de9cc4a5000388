import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HealthIndicatorService } from '@nestjs/terminus';
import { RulesService } from '../calls/rules/rules.service';
import { CALL_STORE, CallStore } from '../calls/store/call-store';
import { EVENT_STORE, EventStore } from '../webhooks/store/event-store';
import { HttpDrain } from './http-drain';

/**
 * Readiness checks: the stores take writes (the event store, and the call store when the calls
 * module is present), routing rules are live, and the service is not shutting down.
 */
@Injectable()
export class ReadinessIndicators {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly moduleRef: ModuleRef,
    private readonly drain: HttpDrain,
  ) {}

  /** Down, naming each problem, while any store's last write failed, its file is corrupt, or it is locked. */
  async store_writable() {
    const indicator = this.indicators.check('store');
    const stores = [this.store, ...this.optional<CallStore>(CALL_STORE)];
    const answers = await Promise.all(stores.map((store) => store.checkReady()));
    const problems = answers.flatMap((answer) => (answer.ready ? [] : [answer.problem]));
    return problems.length === 0
      ? indicator.up()
      : indicator.down({ message: problems.join('; ') });
  }

  rules_loaded() {
    const indicator = this.indicators.check('rules');
    const [rules] = this.optional(RulesService);
    if (!rules) return indicator.up({ message: 'no calls module in this app' });
    const loaded = rules.current !== undefined;
    return loaded ? indicator.up() : indicator.down({ message: 'no routing rules are loaded' });
  }

  /** Whether the service has begun to shut down: the first thing a load balancer must learn. */
  get shuttingDown(): boolean {
    return this.drain.draining;
  }

  shutting_down() {
    return this.indicators
      .check('shutdown')
      .down({ message: 'shutting down: finishing the requests and handlers in flight' });
  }

  /** A provider of a module this app may not import (the calls module is optional). */
  private optional<T>(token: string | symbol | (abstract new (...args: never[]) => T)): T[] {
    try {
      return [this.moduleRef.get<T>(token as never, { strict: false })];
    } catch {
      return [];
    }
  }
}
