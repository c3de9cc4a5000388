import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

export const ADMIN_AUTH = 'admin-token';

/** The OpenAPI document of the HTTP API, generated from the controllers and DTOs, served at /docs. */
export function setUpApiDocs(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Switchboard')
    .setDescription(
      "OpenAI webhook ingest and SIP call routing. The admin routes need `Authorization: Bearer $ADMIN_TOKEN`. The live event stream is a WebSocket at `/events` (see the README's protocol). `POST /webhooks/openai` is signed by OpenAI (Standard Webhooks), not called by people.",
    )
    .setVersion('0.1.0')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'token', description: 'ADMIN_TOKEN' },
      ADMIN_AUTH,
    )
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
}
