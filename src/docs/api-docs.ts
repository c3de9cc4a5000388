import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { stringify } from 'yaml';
import { streamAsyncApiDocument } from '../stream/stream-asyncapi';
import { ADMIN_AUTH, METRICS_AUTH } from './api-operation.decorator';

export { ADMIN_AUTH };

const VERSION = '0.1.0';

/**
 * The API documents, served beside each other: Swagger UI at /docs and the OpenAPI document of
 * the HTTP API at /docs/openapi.json (from the controllers and DTOs), and the AsyncAPI 3.0
 * document of the WebSocket stream at /docs/asyncapi.json and /docs/asyncapi.yaml.
 */
export function setUpApiDocs(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Switchboard')
    .setDescription(
      'OpenAI webhook ingest and SIP call routing. The admin routes need `Authorization: Bearer $ADMIN_TOKEN`; `/metrics` needs `$METRICS_TOKEN` when that is set. `POST /webhooks/openai` is signed by OpenAI (Standard Webhooks), not called by people. The live event stream is a WebSocket at `/events`, described by the AsyncAPI document at [/docs/asyncapi.json](/docs/asyncapi.json) (or [.yaml](/docs/asyncapi.yaml)).',
    )
    .setVersion(VERSION)
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'token', description: 'ADMIN_TOKEN' },
      ADMIN_AUTH,
    )
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'token', description: 'METRICS_TOKEN' },
      METRICS_AUTH,
    )
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });

  const asyncApi = streamAsyncApiDocument(VERSION);
  const asyncApiYaml = stringify(asyncApi);
  const http = app.getHttpAdapter();
  http.get('/docs/asyncapi.json', (_req: unknown, res: unknown) => http.reply(res, asyncApi, 200));
  http.get('/docs/asyncapi.yaml', (_req: unknown, res: unknown) => {
    http.setHeader(res, 'Content-Type', 'application/yaml; charset=utf-8');
    http.reply(res, asyncApiYaml, 200);
  });
}
