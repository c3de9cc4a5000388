import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HealthIndicatorService } from '@nestjs/terminus';
import { RulesService } from '../calls/rules/rules.service';
import { EVENT_STORE, EventStore } from '../webhooks/store/event-store';

/** Readiness checks: the store takes writes, and (when the calls module is present) rules are live. */
@Injectable()
export class ReadinessIndicators {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly moduleRef: ModuleRef,
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
}
