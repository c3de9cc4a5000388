import { ConfigurableModuleBuilder } from '@nestjs/common';
import { EventStreamOptions } from './event-stream.options';

export const {
  ConfigurableModuleClass: ConfigurableEventStreamModule,
  MODULE_OPTIONS_TOKEN: EVENT_STREAM_OPTIONS,
} = new ConfigurableModuleBuilder<EventStreamOptions>().setClassMethodName('forRoot').build();
