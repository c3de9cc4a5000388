import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { ConfigurableMetricsModule } from './metrics.module-definition';
import { SwitchboardMetrics } from './switchboard-metrics';

/**
 * `GET /metrics`. Global, so that the webhooks, calls and stream modules record into it when
 * an app imports it, and do nothing when one does not.
 */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [SwitchboardMetrics],
  exports: [SwitchboardMetrics],
})
export class MetricsModule extends ConfigurableMetricsModule {}
