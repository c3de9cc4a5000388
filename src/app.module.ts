import { DynamicModule, Module } from '@nestjs/common';
import { join } from 'node:path';
import { CallsModule } from './calls/calls.module';
import { ConsoleModule } from './console/console.module';
import { SwitchboardConfig } from './config/switchboard.config';
import { GenericModule } from './generic/generic.module';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { EventStreamModule } from './stream/event-stream.module';
import { WebhooksModule } from './webhooks/webhooks.module';

/** The commented example rules: `npm start` begins with them when no RULES_FILE is set. */
export const EXAMPLE_RULES_FILE = join(__dirname, '..', 'rules', 'example.yaml');

/** The Switchboard service: one application of the library's modules, like any user's. */
@Module({})
export class AppModule {
  static forConfig(config: SwitchboardConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LoggingModule.forRoot({
          level: config.logLevel,
          pretty: config.nodeEnv === 'development',
          redact: config.logRedact,
        }),
        MetricsModule.forRoot({ token: config.metricsToken }),
        WebhooksModule.forRoot({
          secrets: config.webhookSecrets,
          dataDir: config.dataDir,
          databaseUrl: config.databaseUrl,
          runLeaseMs: config.runLeaseMs,
          synchronous: config.synchronous,
          toleranceSeconds: config.toleranceSeconds,
          maxBodyBytes: config.maxBodyBytes,
          bodyTimeoutMs: config.bodyTimeoutMs,
          retentionHours: config.retentionHours,
          adminToken: config.adminToken,
        }),
        GenericModule,
        EventStreamModule.forRoot({
          adminToken: config.adminToken,
          readTokens: config.streamTokens,
          heartbeatMs: config.streamHeartbeatMs,
        }),
        CallsModule.forRoot({
          rulesFile: config.rulesFile,
          seedRulesFile: EXAMPLE_RULES_FILE,
          dataDir: config.dataDir,
          databaseUrl: config.databaseUrl,
          synchronous: config.synchronous,
          callControl: { apiKey: config.openaiApiKey, baseURL: config.openaiBaseUrl },
          redactCallerIds: config.logRedactSip,
          twinWaitMs: config.twinWaitMs,
          sideband: { maxCalls: config.sidebandMaxCalls, leaseMs: config.sidebandLeaseMs },
          toolTimeoutMs: config.callToolTimeoutMs,
          maxBodyBytes: config.maxBodyBytes,
          bodyTimeoutMs: config.bodyTimeoutMs,
        }),
        HealthModule,
        ConsoleModule,
      ],
    };
  }
}
