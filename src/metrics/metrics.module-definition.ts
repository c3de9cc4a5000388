import { ConfigurableModuleBuilder } from '@nestjs/common';
import { MetricsModuleOptions } from './metrics.options';

export const {
  ConfigurableModuleClass: ConfigurableMetricsModule,
  MODULE_OPTIONS_TOKEN: METRICS_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<MetricsModuleOptions>().setClassMethodName('forRoot').build();
