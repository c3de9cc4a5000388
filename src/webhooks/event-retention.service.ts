import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { EVENT_STORE, EventStore } from './store/event-store';
import { WEBHOOKS_MODULE_OPTIONS } from './webhooks.module-definition';
import { WebhooksModuleOptions } from './webhooks.options';

const HOUR_MS = 60 * 60 * 1000;

/** Forgets events older than the retention once an hour (and at start-up). */
@Injectable()
export class EventRetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EventRetentionService.name);
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(WEBHOOKS_MODULE_OPTIONS) private readonly options: WebhooksModuleOptions,
  ) {}

  onApplicationBootstrap(): void {
    void this.prune();
    this.timer = setInterval(() => void this.prune(), HOUR_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async prune(): Promise<number> {
    const retentionMs = (this.options.retentionHours ?? 168) * HOUR_MS;
    const now = (this.options.now ?? Date.now)();
    try {
      const removed = await this.store.pruneBefore(now - retentionMs);
      if (removed > 0) this.logger.log(`forgot ${removed} event(s) older than the retention`);
      return removed;
    } catch (error) {
      this.logger.error(`pruning old events failed: ${(error as Error).message}`);
      return 0;
    }
  }
}
