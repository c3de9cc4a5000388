import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HealthIndicatorService } from '@nestjs/terminus';
import { RulesService } from '../calls/rules/rules.service';
import { EVENT_STORE, EventStore } from '../webhooks/store/event-store';
import { HttpDrain } from './http-drain';

/**
 * Readiness checks: the store takes writes, (when the calls module is present) rules are live,
 * and the service is not shutting down.
 */
@Injectable()
export class ReadinessIndicators {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly moduleRef: ModuleRef,
    private readonly drain: HttpDrain,
  ) {}

  async store_writable() {
    const indicator = this.indicators.check('store');
    return (await this.store.isWritable())
      ? indicator.up()
      : indicator.down({ message: 'the event store does not take writes' });
  }

  rules_loaded() {
    const indicator = this.indicators.check('rules');
    let rules: RulesService;
    try {
      rules = this.moduleRef.get(RulesService, { strict: false });
    } catch {
      return indicator.up({ message: 'no calls module in this app' });
    }
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
}
