import { DynamicModule, Module } from '@nestjs/common';
import { defaultAssetsDir, loadConsoleAssets } from './console-assets';
import { CONSOLE_ASSETS } from './console.constants';
import { ConsoleController } from './console.controller';

export interface ConsoleModuleOptions {
  /** Where the built console is; default: the package's own `dist/console/static`. */
  assetsDir?: string;
}

/**
 * The call console at `/console`: a web page for operators, built with the package. An app
 * opts in by importing `ConsoleModule` (beside `WebhooksModule`, `CallsModule` and
 * `EventStreamModule`, whose admin API and stream it uses, behind the admin token).
 */
@Module({
  controllers: [ConsoleController],
  providers: [{ provide: CONSOLE_ASSETS, useFactory: () => loadConsoleAssets(defaultAssetsDir()) }],
})
export class ConsoleModule {
  static forRoot(options: ConsoleModuleOptions = {}): DynamicModule {
    return {
      module: ConsoleModule,
      providers: [
        {
          provide: CONSOLE_ASSETS,
          useFactory: () => loadConsoleAssets(options.assetsDir ?? defaultAssetsDir()),
        },
      ],
    };
  }
}
