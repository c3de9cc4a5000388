import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { join } from 'node:path';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { RulesValidationError } from './calls/rules/rule-set.compiler';
import { RulesFileError } from './calls/rules/rules-file';
import {
  ConfigError,
  DEV_ADMIN_TOKEN_FILE,
  DEV_SECRET_FILE,
  loadConfig,
  SwitchboardConfig,
} from './config/switchboard.config';
import { boundRequestTimes } from './common/http/request-times';
import { setUpApiDocs } from './docs/api-docs';

async function bootstrap(): Promise<void> {
  let config: SwitchboardConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  let app;
  try {
    // No global body parser: the webhook route reads raw bytes (signatures are over them),
    // and the admin routes parse their own JSON.
    app = await NestFactory.create(AppModule.forConfig(config), {
      bodyParser: false,
      bufferLogs: true,
    });
    app.useLogger(app.get(Logger));
    setUpApiDocs(app);
    // The modules start here (the rules load in it): their errors are start-up errors too.
    await app.init();
  } catch (error) {
    if (error instanceof RulesFileError || error instanceof RulesValidationError) {
      // One problem, one line; several, one line each.
      fail(
        `the routing rules are invalid:${error.message.includes('\n') ? '\n' : ' '}${error.message}`,
      );
    }
    throw error;
  }
  // process.exit after the drain (not a re-raised signal): the async log stream flushes on exit.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  boundShutdown(config.shutdownTimeoutMs);
  boundRequestTimes(app.getHttpServer(), config);
  await app.listen(config.port, config.host);
  announce(config, await app.getUrl());
}

/**
 * Nest drains on the first SIGTERM (stop accepting, finish requests and handlers, close stream
 * clients with 1001, close the store). The drain is bounded, and a second signal ends the
 * process at once (other listeners, such as the log transport's, would otherwise keep it).
 */
function boundShutdown(timeoutMs: number): void {
  const first = (signal: NodeJS.Signals) => {
    setTimeout(() => {
      console.error(`switchboard: shutdown took longer than ${timeoutMs} ms; exiting`);
      process.exit(1);
    }, timeoutMs).unref();
    const again = () => {
      console.error(`switchboard: ${signal} again; exiting without finishing the drain`);
      process.exit(130);
    };
    process.once('SIGTERM', again);
    process.once('SIGINT', again);
  };
  process.once('SIGTERM', first);
  process.once('SIGINT', first);
}

function announce(config: SwitchboardConfig, url: string): void {
  const logger = new NestLogger('Switchboard');
  const local = url.replace('[::1]', 'localhost').replace('127.0.0.1', 'localhost');
  logger.log(
    `listening on ${local} (NODE_ENV=${config.nodeEnv}), store in ${config.dataDir}; API docs at /docs`,
  );
  if (config.webhookSecretSource !== 'env') {
    const file = join(config.dataDir, DEV_SECRET_FILE);
    logger.warn(
      config.webhookSecretSource === 'generated'
        ? `OPENAI_WEBHOOK_SECRET is not set: generated a development secret: ${config.webhookSecrets[0]} (saved in ${file})`
        : `OPENAI_WEBHOOK_SECRET is not set: reusing the development secret saved in ${file}: ${config.webhookSecrets[0]}`,
    );
    const port = new URL(url).port;
    logger.warn(
      `send a correctly signed sample event with: ${port === '3000' ? '' : `PORT=${port} `}npm run demo (in a second terminal)`,
    );
  }
  if (!config.openaiApiKey) {
    logger.warn(
      'OPENAI_API_KEY is not set: call-control actions are decided and recorded but NOT sent to OpenAI',
    );
  }
  if (config.adminTokenSource === 'generated' || config.adminTokenSource === 'reused') {
    const file = join(config.dataDir, DEV_ADMIN_TOKEN_FILE);
    logger.warn(
      config.adminTokenSource === 'generated'
        ? `ADMIN_TOKEN is not set: generated a development admin token: ${config.adminToken} (saved in ${file}; npm run tail and npm run demo read it from there)`
        : `ADMIN_TOKEN is not set: reusing the development admin token saved in ${file}: ${config.adminToken}`,
    );
  }
  logger.log(
    config.adminToken
      ? 'admin API and event stream on (Authorization: Bearer $ADMIN_TOKEN)'
      : 'admin API and event stream off: set ADMIN_TOKEN to enable them',
  );
}

function fail(message: string): never {
  console.error(`switchboard: cannot start: ${message}`);
  process.exit(1);
}

void bootstrap();
