// (c) What a user would write by hand: a Nest controller that calls the official SDK's
// `webhooks.unwrap` and validates the event with a ValidationPipe. Decorators are applied
// by hand because this file is plain JavaScript.
require('reflect-metadata');
const { Body, Controller, HttpCode, Module, Post, Req, ValidationPipe } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const OpenAI = require('openai').default;
const { ResponseCompletedEvent } = require('../../dist');
const { SECRET } = require('../deliveries');
const { announce } = require('./listen');

const client = new OpenAI({ apiKey: 'unused', webhookSecret: SECRET });

class WebhookController {
  async receive(req, _body) {
    await client.webhooks.unwrap(req.rawBody.toString(), req.headers);
    return { received: true };
  }
}
const descriptor = Object.getOwnPropertyDescriptor(WebhookController.prototype, 'receive');
Req()(WebhookController.prototype, 'receive', 0);
Body(new ValidationPipe({ expectedType: ResponseCompletedEvent, whitelist: true }))(
  WebhookController.prototype,
  'receive',
  1,
);
Post('webhooks/openai')(WebhookController.prototype, 'receive', descriptor);
HttpCode(200)(WebhookController.prototype, 'receive', descriptor);
Controller()(WebhookController);

class BaselineModule {}
Module({ controllers: [WebhookController] })(BaselineModule);

async function main() {
  const app = await NestFactory.create(BaselineModule, { rawBody: true, logger: ['error'] });
  app.useBodyParser('json', { limit: '1mb' });
  await app.listen(0, '127.0.0.1');
  announce(app.getHttpServer());
}
main();
