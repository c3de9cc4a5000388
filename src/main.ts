import { INestApplication, Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { join, resolve } from 'node:path';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { describeTarget } from './common/postgres/postgres-database';
import { boundRequestTimes } from './common/http/request-times';
import { describeStartUpFailure } from './config/start-up-failure';
import {
  DEV_ADMIN_TOKEN_FILE,
  DEV_SECRET_FILE,
  loadConfig,
  SwitchboardConfig,
} from './config/switchboard.config';
import { setUpApiDocs } from './docs/api-docs';
import { HttpDrain } from './health/http-drain';

async function bootstrap(): Promise<void> {
  let config: SwitchboardConfig | undefined;
  try {
    config = loadConfig(process.env);
    // No global body parser: the webhook route reads raw bytes (signatures are over them),
    // and the admin routes parse their own JSON.
    const app = await NestFactory.create(AppModule.forConfig(config), {
      bodyParser: false,
      bufferLogs: true,
      // A module that cannot be built (a store that cannot open) is thrown to the catch below,
      // which prints one line; Nest would log a stack and exit by itself. The logs buffered
      // until then are dropped with it.
      abortOnError: false,
      autoFlushLogs: false,
    });
    app.useLogger(app.get(Logger));
    app.flushLogs();
    setUpApiDocs(app);
    // The modules start here (the rules load in it): their errors are start-up errors too.
    await app.init();
    drainOnSignals(app, config.shutdownTimeoutMs);
    boundRequestTimes(app.getHttpServer(), config);
    await app.listen(config.port, config.host);
    announce(config, await app.getUrl());
  } catch (error) {
    fail(describeStartUpFailure(error, config));
  }
}

/**
 * The first SIGTERM (or SIGINT) drains: readiness turns 503 and the server stops taking work
 * (`HttpDrain`: no new connections, `Connection: close` on every response still to come, idle
 * connections closed), then Nest's shutdown finishes the requests and handlers in flight,
 * closes stream clients with 1001 and closes the stores, and the process exits 0. The drain is
 * bounded by SHUTDOWN_TIMEOUT_MS (exit 1), and a second signal ends the process at once.
 * process.exit, not a re-raised signal: the async log stream flushes on exit.
 */
function drainOnSignals(app: INestApplication, timeoutMs: number): void {
  const logger = new NestLogger('Shutdown');
  const drain = (signal: NodeJS.Signals) => {
    const started = Date.now();
    setTimeout(() => {
      console.error(
        `switchboard: SHUTDOWN_TIMEOUT_MS (${timeoutMs} ms) fired before the drain completed; exiting with code 1`,
      );
      process.exit(1);
    }, timeoutMs).unref();
    const again = () => {
      console.error(`switchboard: ${signal} again; exiting without finishing the drain`);
      process.exit(130);
    };
    process.once('SIGTERM', again);
    process.once('SIGINT', again);
    app.get(HttpDrain, { strict: false }).begin();
    logger.log(`${signal}: draining; not ready, no new connections, finishing the work in flight`);
    app.close().then(
      () => {
        logger.log(`drain completed in ${Date.now() - started} ms; exiting`);
        process.exit(0);
      },
      (error: unknown) => {
        console.error(`switchboard: the drain failed: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', drain);
  process.once('SIGINT', drain);
}

function announce(config: SwitchboardConfig, url: string): void {
  const logger = new NestLogger('Switchboard');
  const local = url.replace('[::1]', 'localhost').replace('127.0.0.1', 'localhost');
  const stores = config.databaseUrl
    ? `events, calls and rules in PostgreSQL at ${describeTarget(config.databaseUrl)}`
    : `store in ${config.dataDir}`;
  logger.log(
    `listening on ${local} (NODE_ENV=${config.nodeEnv}), ${stores}; API docs at /docs, call console at /console`,
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
      `send a correctly signed sample event with: ${demoCommand(config, port)} (in a second terminal)`,
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

/** `npm run demo` with the settings it needs to find this service and its secret. */
function demoCommand(config: SwitchboardConfig, port: string): string {
  const env = [
    ...(port === '3000' ? [] : [`PORT=${port}`]),
    ...(config.dataDir === resolve('./data') ? [] : [`DATA_DIR=${config.dataDir}`]),
  ];
  return [...env, 'npm run demo'].join(' ');
}

function fail(message: string): never {
  console.error(`switchboard: cannot start: ${message}`);
  process.exit(1);
}

void bootstrap();
