import { ConfigurableModuleBuilder } from '@nestjs/common';
import { CallsModuleOptions } from './calls.options';

export const {
  ConfigurableModuleClass: ConfigurableCallsModule,
  MODULE_OPTIONS_TOKEN: CALLS_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<CallsModuleOptions>().setClassMethodName('forRoot').build();
