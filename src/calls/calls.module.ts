import {
  Inject,
  MiddlewareConsumer,
  Module,
  NestModule,
  OnApplicationShutdown,
} from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { join } from 'node:path';
import { DEFAULT_BODY_TIMEOUT_MS, DEFAULT_MAX_BODY_BYTES } from '../common/http/body-limits';
import { jsonBody } from '../common/http/json-body';
import { openChecked } from '../common/sqlite/open-checked';
import { CallsController } from './calls.controller';
import { CALLS_MODULE_OPTIONS, ConfigurableCallsModule } from './calls.module-definition';
import { CallsModuleOptions } from './calls.options';
import { CallsService } from './calls.service';
import { CallOutcomes } from './call-outcomes';
import { CallControlClient } from './control/call-control.client';
import { CallSurfaces } from './surfaces/call-surfaces';
import {
  MAX_SIDEBAND_CALLS,
  MAX_SIDEBAND_LEASE_MS,
  MIN_SIDEBAND_LEASE_MS,
} from './sideband/sideband.options';
import { SidebandService } from './sideband/sideband.service';
import { TwinRendezvous } from './twins/twin-rendezvous';
import { MAX_TWIN_WAIT_MS } from './twins/twin-wait';
import { RulesController } from './rules/rules.controller';
import { RulesService } from './rules/rules.service';
import { CALL_STORE, CallStore } from './store/call-store';
import { PostgresCallStore } from './store/postgres/postgres-call-store';
import { SqliteCallStore } from './store/sqlite-call-store';
import { WebhookDispatcher } from '../webhooks/handlers/webhook-dispatcher.service';
import { CallControlTools } from './tools/builtin/call-control.tools';
import { CALL_TOOL_RUNNER } from './tools/call-tool-runner';
import { CallToolRegistry } from './tools/call-tool.registry';
import { CallToolsService } from './tools/call-tools.service';

/**
 * Routes `realtime.call.incoming` by SIP-header rules and carries the decision out through
 * OpenAI's call control; runs the `@CallTool` handlers the model calls (`CallToolsService`). Needs `WebhooksModule` in the same app (it publishes call lifecycle
 * events through it and registers its handler with `@OnWebhookEvent`).
 */
@Module({
  imports: [DiscoveryModule],
  controllers: [RulesController, CallsController],
  providers: [
    {
      provide: CALL_STORE,
      inject: [CALLS_MODULE_OPTIONS],
      useFactory: async (options: CallsModuleOptions): Promise<CallStore> => {
        if (options.store) return options.store;
        if (options.databaseUrl !== undefined) {
          if (!/^postgres(ql)?:\/\//.test(options.databaseUrl))
            throw new Error('CallsModule: databaseUrl must be a postgres:// or postgresql:// URL');
          return PostgresCallStore.open({ url: options.databaseUrl });
        }
        const store = new SqliteCallStore(join(options.dataDir ?? './data', 'calls.db'), {
          synchronous: options.synchronous,
        });
        await openChecked(store);
        return store;
      },
    },
    {
      provide: CallControlClient,
      inject: [CALLS_MODULE_OPTIONS],
      useFactory: (options: CallsModuleOptions) => new CallControlClient(options.callControl ?? {}),
    },
    CallSurfaces,
    CallOutcomes,
    TwinRendezvous,
    RulesService,
    SidebandService,
    CallsService,
    // Tools as Nest handlers: every @CallTool in the app, the built-in ones among them.
    CallToolRegistry,
    CallToolsService,
    { provide: CALL_TOOL_RUNNER, useExisting: CallToolsService },
    CallControlTools,
  ],
  exports: [
    RulesService,
    CallsService,
    SidebandService,
    CALL_STORE,
    CallToolsService,
    CALL_TOOL_RUNNER,
  ],
})
export class CallsModule
  extends ConfigurableCallsModule
  implements NestModule, OnApplicationShutdown
{
  constructor(
    @Inject(CALL_STORE) private readonly store: CallStore,
    @Inject(CALLS_MODULE_OPTIONS) private readonly options: CallsModuleOptions,
    private readonly dispatcher: WebhookDispatcher,
    private readonly sidebands: SidebandService,
  ) {
    super();
  }

  /**
   * JSON bodies for the rules and calls APIs only (the webhook route reads raw bytes), within
   * the same kind of limits as the webhook's: size and time, refused before reading the rest.
   */
  configure(consumer: MiddlewareConsumer): void {
    for (const name of ['maxBodyBytes', 'bodyTimeoutMs'] as const) {
      const value = this.options[name];
      if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
        throw new Error(`CallsModule: ${name} must be a positive number (got ${String(value)})`);
      }
    }
    const wait = this.options.twinWaitMs;
    if (wait !== undefined && !(Number.isFinite(wait) && wait >= 0 && wait <= MAX_TWIN_WAIT_MS)) {
      throw new Error(
        `CallsModule: twinWaitMs must be a number from 0 to ${MAX_TWIN_WAIT_MS} (got ${String(wait)})`,
      );
    }
    const maxCalls = this.options.sideband?.maxCalls;
    if (
      maxCalls !== undefined &&
      !(Number.isInteger(maxCalls) && maxCalls >= 0 && maxCalls <= MAX_SIDEBAND_CALLS)
    ) {
      throw new Error(
        `CallsModule: sideband.maxCalls must be an integer from 0 to ${MAX_SIDEBAND_CALLS} (got ${String(maxCalls)})`,
      );
    }
    const lease = this.options.sideband?.leaseMs;
    if (
      lease !== undefined &&
      !(Number.isInteger(lease) && lease >= MIN_SIDEBAND_LEASE_MS && lease <= MAX_SIDEBAND_LEASE_MS)
    ) {
      throw new Error(
        `CallsModule: sideband.leaseMs must be an integer from ${MIN_SIDEBAND_LEASE_MS} to ${MAX_SIDEBAND_LEASE_MS} (got ${String(lease)})`,
      );
    }
    const limits = {
      maxBytes: this.options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      timeoutMs: this.options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS,
    };
    consumer.apply(jsonBody(limits)).forRoutes(RulesController, CallsController);
  }

  /**
   * Call handlers in flight write their outcome to this store: they finish first. Sidebands
   * are closed (and recorded so) before the store.
   */
  async onApplicationShutdown(): Promise<void> {
    await this.dispatcher.drain();
    await this.sidebands.closeAll();
    if (!this.options.store) await this.store.close();
  }
}
