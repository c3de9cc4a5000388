import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { RulesValidationError } from './calls/rules/rule-set.compiler';
import { RulesFileError } from './calls/rules/rules-file';
import { ConfigError, loadConfig, SwitchboardConfig } from './config/switchboard.config';

async function bootstrap(): Promise<void> {
  let config: SwitchboardConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`switchboard: cannot start: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  // No global body parser: the webhook route reads raw bytes (signatures are over them).
  let app;
  try {
    app = await NestFactory.create(AppModule.forConfig(config), { bodyParser: false });
  } catch (error) {
    if (error instanceof RulesFileError || error instanceof RulesValidationError) {
      console.error(`switchboard: cannot start: the routing rules are invalid:\n${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  app.enableShutdownHooks();
  await app.listen(config.port);
  announce(config, await app.getUrl());
}

function announce(config: SwitchboardConfig, url: string): void {
  const logger = new Logger('Switchboard');
  const local = url.replace('[::1]', 'localhost').replace('127.0.0.1', 'localhost');
  logger.log(`listening on ${local} (NODE_ENV=${config.nodeEnv}), store in ${config.dataDir}`);
  if (config.webhookSecretSource === 'generated') {
    logger.warn(
      `OPENAI_WEBHOOK_SECRET is not set: generated a development secret: ${config.webhookSecrets[0]}`,
    );
    const port = new URL(url).port;
    logger.warn(
      `send a correctly signed sample event with: ${port === '3000' ? '' : `PORT=${port} `}npm run demo`,
    );
  }
  if (!config.openaiApiKey) {
    logger.warn(
      'OPENAI_API_KEY is not set: call-control actions are decided and recorded but NOT sent to OpenAI',
    );
  }
  logger.log(
    config.adminToken
      ? 'admin API on (Authorization: Bearer $ADMIN_TOKEN)'
      : 'admin API off: set ADMIN_TOKEN to enable it',
  );
}

void bootstrap();
