// (d) The framework's own floor: a Nest controller on Express that reads the raw body and
// answers 200, doing nothing else. Shows how much of (b)'s rate Nest itself leaves.
require('reflect-metadata');
const { Controller, HttpCode, Module, Post } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { raw } = require('express');
const { announce } = require('./listen');

class BareController {
  receive() {
    return { received: true };
  }
}
const descriptor = Object.getOwnPropertyDescriptor(BareController.prototype, 'receive');
Post('webhooks/openai')(BareController.prototype, 'receive', descriptor);
HttpCode(200)(BareController.prototype, 'receive', descriptor);
Controller()(BareController);

class BareModule {}
Module({ controllers: [BareController] })(BareModule);

async function main() {
  const app = await NestFactory.create(BareModule, { bodyParser: false, logger: ['error'] });
  app.use(raw({ type: () => true, limit: '1mb' }));
  await app.listen(0, '127.0.0.1');
  announce(app.getHttpServer());
}
main();
