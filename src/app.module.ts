import { DynamicModule, Module } from '@nestjs/common';
import { SwitchboardConfig } from './config/switchboard.config';
import { GenericModule } from './generic/generic.module';
import { RealtimeCallModule } from './realtime-call/realtime-call.module';
import { WebhooksModule } from './webhooks/webhooks.module';

/** The Switchboard service: one application of `WebhooksModule`, like any user's. */
@Module({})
export class AppModule {
  static forConfig(config: SwitchboardConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        WebhooksModule.forRoot({
          secrets: config.webhookSecrets,
          dataDir: config.dataDir,
          synchronous: config.synchronous,
          toleranceSeconds: config.toleranceSeconds,
          maxBodyBytes: config.maxBodyBytes,
          retentionHours: config.retentionHours,
          adminToken: config.adminToken,
        }),
        GenericModule,
        RealtimeCallModule,
      ],
    };
  }
}
