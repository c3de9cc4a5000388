import { Module } from '@nestjs/common';
import request from 'supertest';
import { parse } from 'yaml';
import { CallsModule } from '../src/calls/calls.module';
import { SqliteCallStore } from '../src/calls/store/sqlite-call-store';
import { setUpApiDocs } from '../src/docs/api-docs';
import { WEBHOOK_EVENT_DTOS } from '../src/events/webhook-event-types';
import { HealthModule } from '../src/health/health.module';
import { MetricsModule } from '../src/metrics/metrics.module';
import { EventStreamModule } from '../src/stream/event-stream.module';
import { SwitchboardEventPublisher } from '../src/webhooks/switchboard-event.publisher';
import { StreamMessage, TestStreamClient } from './support/stream-client';
import { createTestApp, eventually, TestApp } from './support/test-app';

const TOKEN = 'docs-admin';

/**
 * Every operation of the HTTP API and the error answers it must document: a new route fails
 * here until its answers are written down.
 */
const EXPECTED_ERRORS: Record<string, number[]> = {
  'POST /webhooks/openai': [400, 401, 408, 413, 415, 500],
  'GET /events': [400, 401, 404],
  'GET /events/{id}': [401, 404],
  'POST /events/{id}/replay': [401, 404, 409],
  'GET /rules': [401, 404],
  'PUT /rules': [400, 401, 404, 409, 412, 428],
  'POST /rules': [400, 401, 404, 409, 412, 428],
  'POST /rules/evaluate': [400, 401, 404],
  'PUT /rules/order': [400, 401, 404, 409, 412, 428],
  'GET /rules/{id}': [401, 404],
  'PUT /rules/{id}': [400, 401, 404, 409, 412, 428],
  'DELETE /rules/{id}': [401, 404, 409, 412, 428],
  'GET /calls': [400, 401, 404],
  'GET /calls/{callId}': [401, 404],
  'POST /calls/{callId}/hangup': [401, 404, 502],
  'POST /calls/{callId}/refer': [400, 401, 404, 502],
  'POST /calls/{callId}/message': [400, 401, 404, 409],
  'GET /healthz': [503],
  'GET /readyz': [503],
  'GET /metrics': [401],
};

interface Operation {
  summary?: string;
  responses: Record<
    string,
    { description: string; content?: Record<string, { schema?: unknown }> }
  >;
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
}
type Document = Record<string, unknown> & {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Record<string, unknown>> };
};

/** Every `$ref` inside a document, to check that each resolves. */
function refs(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refs);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    key === '$ref' && typeof inner === 'string' ? [inner] : refs(inner),
  );
}

/** What a `$ref` points at, following a chain of references (AsyncAPI channels refer on). */
function resolve(document: unknown, ref: string, depth = 0): unknown {
  const target = ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], document);
  const next = (target as { $ref?: unknown } | undefined)?.$ref;
  return typeof next === 'string' && depth < 5 ? resolve(document, next, depth + 1) : target;
}

@Module({ imports: [EventStreamModule.forRoot({ adminToken: TOKEN })] })
class StreamModule {}

describe('API documentation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      beforeInit: setUpApiDocs,
      options: { adminToken: TOKEN },
      listen: true,
      imports: [
        MetricsModule.forRoot({ token: 'scrape' }),
        HealthModule,
        CallsModule.forRoot({ store: new SqliteCallStore(':memory:') }),
        StreamModule,
      ],
    });
  });
  afterAll(() => t.close());
  const http = () => request(t.app.getHttpServer());

  describe('the OpenAPI document (/docs/openapi.json)', () => {
    let document: Document;
    beforeAll(async () => {
      document = (await http().get('/docs/openapi.json').expect(200)).body as Document;
    });
    const operations = () =>
      Object.entries(document.paths).flatMap(([path, methods]) =>
        Object.entries(methods).map(
          ([method, op]) => [`${method.toUpperCase()} ${path}`, op] as const,
        ),
      );

    it('lists every operation, /metrics included', () => {
      expect(
        operations()
          .map(([name]) => name)
          .sort(),
      ).toEqual(Object.keys(EXPECTED_ERRORS).sort());
    });

    it('gives every operation a summary, a schema for each answer, and its error answers', () => {
      for (const [name, op] of operations()) {
        expect({ name, summary: typeof op.summary === 'string' && op.summary.length > 10 }).toEqual(
          {
            name,
            summary: true,
          },
        );
        const statuses = Object.keys(op.responses).map(Number);
        expect({ name, errors: statuses.filter((s) => s >= 400) }).toEqual({
          name,
          errors: EXPECTED_ERRORS[name],
        });
        expect({ name, success: statuses.some((s) => s < 300) }).toEqual({ name, success: true });
        for (const [status, response] of Object.entries(op.responses)) {
          const schemas = Object.values(response.content ?? {}).map((media) => media.schema);
          expect({
            name,
            status,
            described: response.description.length > 0,
            schemas: schemas.length,
          }).toEqual({ name, status, described: true, schemas: expect.any(Number) });
          expect({ name, status, hasSchema: schemas.length > 0 && schemas.every(Boolean) }).toEqual(
            {
              name,
              status,
              hasSchema: true,
            },
          );
        }
      }
    });

    it('documents the webhook body as the union of the event schemas, keyed by type', () => {
      const schema = document.paths['/webhooks/openai'].post.requestBody!.content[
        'application/json'
      ].schema as {
        oneOf: { $ref: string }[];
        discriminator: { propertyName: string; mapping: Record<string, string> };
      };
      expect(schema.oneOf).toHaveLength(Object.keys(WEBHOOK_EVENT_DTOS).length);
      expect(schema.discriminator.propertyName).toBe('type');
      for (const [type, dto] of Object.entries(WEBHOOK_EVENT_DTOS)) {
        const ref = `#/components/schemas/${dto.name}`;
        expect(schema.discriminator.mapping[type]).toBe(ref);
        expect(schema.oneOf).toContainEqual({ $ref: ref });
        const event = resolve(document, ref) as {
          required: string[];
          properties: Record<string, { enum?: string[] }>;
        };
        expect(event.required).toEqual(
          expect.arrayContaining(['id', 'type', 'created_at', 'data']),
        );
        expect(event.properties.type.enum).toEqual([type]);
      }
    });

    it('documents /metrics as Prometheus text behind its token', () => {
      const metrics = document.paths['/metrics'].get;
      expect(Object.keys(metrics.responses[200].content!)).toEqual(['text/plain']);
      expect((metrics as unknown as { security: unknown }).security).toEqual([
        { 'metrics-token': [] },
      ]);
    });

    it('resolves every $ref', () => {
      for (const ref of refs(document))
        expect({ ref, found: resolve(document, ref) !== undefined }).toEqual({ ref, found: true });
    });
  });

  describe('the AsyncAPI document of the WebSocket stream (/docs/asyncapi.json)', () => {
    type AsyncApi = {
      asyncapi: string;
      channels: { events: { address: string; messages: Record<string, { $ref: string }> } };
      operations: Record<
        string,
        { action: string; channel: { $ref: string }; messages: { $ref: string }[] }
      >;
      components: {
        messages: Record<
          string,
          {
            name: string;
            payload: { required: string[]; properties: Record<string, { const?: string }> };
            examples: { payload: Record<string, unknown> }[];
          }
        >;
      };
    };
    let document: AsyncApi;
    beforeAll(async () => {
      document = (await http().get('/docs/asyncapi.json').expect(200)).body as AsyncApi;
    });
    const byDirection = (action: 'send' | 'receive') =>
      Object.values(document.operations)
        .filter((op) => op.action === action)
        .flatMap((op) => op.messages.map((ref) => resolve(document, ref.$ref)))
        .map((message) => message as AsyncApi['components']['messages'][string]);

    it('is an AsyncAPI 3.0 document of the /events channel, every $ref resolving', () => {
      expect(document.asyncapi).toBe('3.0.0');
      expect(document.channels.events.address).toBe('/events');
      for (const ref of refs(document))
        expect({ ref, found: resolve(document, ref) !== undefined }).toEqual({ ref, found: true });
      for (const op of Object.values(document.operations))
        expect(op.channel.$ref).toBe('#/channels/events');
    });

    it('is served as YAML too, the same document', async () => {
      const yaml = await http().get('/docs/asyncapi.yaml').expect(200);
      expect(yaml.headers['content-type']).toMatch(/yaml/);
      expect(parse(yaml.text)).toEqual(document);
    });

    it('describes each client message the server accepts: each example is answered, never with an error', async () => {
      const received = byDirection('receive');
      expect(received.map((message) => message.name).sort()).toEqual([
        'ping',
        'subscribe',
        'unsubscribe',
      ]);
      const client = await TestStreamClient.connect(`ws://127.0.0.1:${t.port}/events`, TOKEN);
      try {
        for (const message of received) {
          const before = client.messages.length;
          client.send(message.examples[0].payload);
          await eventually(() => expect(client.messages.length).toBeGreaterThan(before));
        }
        expect(client.messages.filter((m) => m.type === 'error')).toEqual([]);
      } finally {
        client.close();
      }
    });

    it('describes each message the server sends, with the fields it really has', async () => {
      const sent = byDirection('send');
      const client = await TestStreamClient.connect(`ws://127.0.0.1:${t.port}/events`, TOKEN);
      try {
        client.send({ op: 'subscribe', types: ['*'], since: 0 });
        await eventually(() => expect(client.messages.map((m) => m.type)).toContain('caught_up'));
        await t.app
          .get(SwitchboardEventPublisher)
          .publish('call.accepted', { call_id: 'rtc_docs', dry_run: true });
        client.send({ op: 'ping' });
        client.send({ op: 'subcribe' });
        await eventually(() =>
          expect(new Set(client.messages.map((m) => m.type))).toEqual(
            new Set(['subscribed', 'caught_up', 'event', 'pong', 'error']),
          ),
        );
        const documented = new Map(sent.map((message) => [message.name, message]));
        expect([...documented.keys()].sort()).toEqual([
          'caught_up',
          'error',
          'event',
          'pong',
          'subscribed',
        ]);
        for (const real of client.messages) {
          const message = documented.get(real.type)!;
          expect(message.payload.properties.type.const).toBe(real.type);
          const missing = message.payload.required.filter(
            (key) => !(key in (real as StreamMessage)),
          );
          expect({ type: real.type, missing }).toEqual({ type: real.type, missing: [] });
          // The example has the same fields as the real message.
          expect(Object.keys(message.examples[0].payload).sort()).toEqual(
            expect.arrayContaining(message.payload.required.sort()),
          );
        }
      } finally {
        client.close();
      }
    });
  });
});
