// (a) Switchboard's full pipeline: verify, validate, store (SQLite, WAL), 2xx.
const { NestFactory } = require('@nestjs/core');
const { AppModule } = require('../../dist/app.module');
const { loadConfig } = require('../../dist/config/switchboard.config');
const { SECRET } = require('../deliveries');
const { announce } = require('./listen');

async function main() {
  const config = loadConfig({
    OPENAI_WEBHOOK_SECRET: SECRET,
    DATA_DIR: process.env.BENCH_DATA_DIR,
    PORT: '0',
    STORE_SYNCHRONOUS: process.env.STORE_SYNCHRONOUS || 'normal',
  });
  const app = await NestFactory.create(AppModule.forConfig(config), {
    bodyParser: false,
    logger: ['error'],
  });
  await app.listen(0, '127.0.0.1');
  announce(app.getHttpServer());
}
main();
