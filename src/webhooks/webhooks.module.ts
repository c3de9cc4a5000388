import {
  Inject,
  MiddlewareConsumer,
  Module,
  NestModule,
  OnApplicationShutdown,
  RequestMethod,
} from '@nestjs/common';
import { APP_FILTER, DiscoveryModule } from '@nestjs/core';
import { openChecked } from '../common/sqlite/open-checked';
import { StoreUnavailableFilter } from '../common/filters/store-unavailable.filter';
import { join } from 'node:path';
import { AdminTokenGuard, AdminTokenSource } from '../common/guards/admin-token.guard';
import { EventsController } from './admin/events.controller';
import { EventRetentionService } from './event-retention.service';
import { WebhookDispatcher } from './handlers/webhook-dispatcher.service';
import { WebhookHandlerRegistry } from './handlers/webhook-handler.registry';
import { RawBodyCheck } from './raw-body.check';
import { RawBodyMiddleware } from './raw-body.middleware';
import { decodeWebhookSecrets } from './signature/webhook-secret';
import { WebhookSignatureVerifier } from './signature/webhook-signature.verifier';
import { EVENT_STORE, EventStore } from './store/event-store';
import { PostgresEventStore } from './store/postgres/postgres-event-store';
import { SqliteEventStore } from './store/sqlite-event-store';
import { SwitchboardEventPublisher } from './switchboard-event.publisher';
import { WebhookIngestService } from './webhook-ingest.service';
import { WEBHOOK_PATH, WebhooksController } from './webhooks.controller';
import { ConfigurableWebhooksModule, WEBHOOKS_MODULE_OPTIONS } from './webhooks.module-definition';
import { MIN_RETENTION_HOURS, WebhooksModuleOptions } from './webhooks.options';

/**
 * Verified, durable, typed webhook ingest. `WebhooksModule.forRoot({ secrets })` (or
 * `forRootAsync`) in any Nest app mounts `POST /webhooks/openai` and the admin routes, and
 * hands each event to the `@OnWebhookEvent` methods of every module.
 */
@Module({
  imports: [DiscoveryModule],
  controllers: [WebhooksController, EventsController],
  providers: [
    {
      provide: WebhookSignatureVerifier,
      inject: [WEBHOOKS_MODULE_OPTIONS],
      useFactory: (options: WebhooksModuleOptions) => {
        assertOptions(options);
        const list = Array.isArray(options.secrets) ? options.secrets.join(',') : options.secrets;
        return new WebhookSignatureVerifier({
          keys: decodeWebhookSecrets(list),
          toleranceSeconds: options.toleranceSeconds,
          now: options.now,
        });
      },
    },
    {
      provide: EVENT_STORE,
      inject: [WEBHOOKS_MODULE_OPTIONS],
      useFactory: async (options: WebhooksModuleOptions): Promise<EventStore> => {
        if (options.store) return options.store;
        if (options.databaseUrl) {
          return PostgresEventStore.open({
            url: options.databaseUrl,
            runLeaseMs: options.runLeaseMs,
          });
        }
        const store = new SqliteEventStore({
          filename: join(options.dataDir ?? './data', 'switchboard.db'),
          synchronous: options.synchronous,
        });
        await openChecked(store);
        return store;
      },
    },
    { provide: APP_FILTER, useClass: StoreUnavailableFilter },
    {
      provide: AdminTokenSource,
      inject: [WEBHOOKS_MODULE_OPTIONS],
      useFactory: (options: WebhooksModuleOptions): AdminTokenSource => ({
        adminToken: options.adminToken,
      }),
    },
    AdminTokenGuard,
    WebhookHandlerRegistry,
    WebhookDispatcher,
    WebhookIngestService,
    SwitchboardEventPublisher,
    EventRetentionService,
    RawBodyMiddleware,
    RawBodyCheck,
  ],
  exports: [
    EVENT_STORE,
    SwitchboardEventPublisher,
    WebhookDispatcher,
    AdminTokenSource,
    AdminTokenGuard,
  ],
})
export class WebhooksModule
  extends ConfigurableWebhooksModule
  implements NestModule, OnApplicationShutdown
{
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(WEBHOOKS_MODULE_OPTIONS) private readonly options: WebhooksModuleOptions,
  ) {
    super();
  }

  /** Runs after the providers' hooks (handlers drained), so the store closes last. */
  async onApplicationShutdown(): Promise<void> {
    // A store handed in by the application is the application's to close.
    if (!this.options.store) await this.store.close();
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RawBodyMiddleware).forRoutes({ path: WEBHOOK_PATH, method: RequestMethod.POST });
  }
}

function assertOptions(options: WebhooksModuleOptions): void {
  const positive: (keyof WebhooksModuleOptions)[] = [
    'toleranceSeconds',
    'maxBodyBytes',
    'bodyTimeoutMs',
    'handlerMaxAttempts',
    'handlerRetryBaseMs',
    'runLeaseMs',
  ];
  for (const name of positive) {
    const value = options[name];
    if (
      value !== undefined &&
      !(typeof value === 'number' && Number.isFinite(value) && value > 0)
    ) {
      throw new Error(`WebhooksModule: ${name} must be a positive number (got ${String(value)})`);
    }
  }
  if (options.databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(options.databaseUrl)) {
    throw new Error('WebhooksModule: databaseUrl must be a postgres:// or postgresql:// URL');
  }
  if (options.retentionHours !== undefined && !(options.retentionHours >= MIN_RETENTION_HOURS)) {
    throw new Error(
      `WebhooksModule: retentionHours must be at least ${MIN_RETENTION_HOURS}, OpenAI's retry horizon (got ${options.retentionHours})`,
    );
  }
}
