import { ClientMessage, ServerMessage } from './stream-protocol';

/** A message of the AsyncAPI document: what it means, its JSON schema and an example. */
interface MessageDocs {
  summary: string;
  description?: string;
  payload: Record<string, unknown>;
  example: object;
}

const TYPE_LIST = {
  type: 'array',
  maxItems: 256,
  items: { type: 'string', pattern: '^(\\*|[a-z0-9_]+(\\.[a-z0-9_]+)*(\\.\\*)?)$' },
  description: 'event types: exact, `prefix.*` or `*`',
};
const CALL_IDS = {
  type: 'array',
  maxItems: 256,
  items: { type: 'string', minLength: 1, maxLength: 200 },
  description:
    "only events about these calls (their `data.call_id`, or a Live announcement's `data.session_id`)",
};
const SEQ = { type: 'integer', minimum: 0, description: 'a sequence number of the store' };

function object(
  constant: ['op' | 'type', string],
  properties: Record<string, unknown>,
  required: string[] = [],
) {
  const [key, value] = constant;
  return {
    type: 'object',
    required: [key, ...required],
    properties: { [key]: { type: 'string', const: value }, ...properties },
  };
}

/**
 * Every message a client may send. A `Record` over the protocol's own union: adding an op to
 * `ClientMessage` does not compile until it is documented here.
 */
const CLIENT_MESSAGES: Record<ClientMessage['op'], MessageDocs> = {
  subscribe: {
    summary: 'Add event types and call ids to the filter; the first may catch up from `since`',
    payload: object(['op', 'subscribe'], {
      types: TYPE_LIST,
      call_ids: CALL_IDS,
      since: {
        ...SEQ,
        description:
          'first subscribe only: send every stored event after this sequence number, then live ones, with no gap and no duplicate',
      },
    }),
    example: { op: 'subscribe', types: ['call.*', 'batch.completed'], since: 0 },
  },
  unsubscribe: {
    summary: 'Remove event types and call ids from the filter',
    payload: object(['op', 'unsubscribe'], { types: TYPE_LIST, call_ids: CALL_IDS }),
    example: { op: 'unsubscribe', types: ['batch.completed'] },
  },
  ping: {
    summary: 'Ask for a pong with the last sequence number sent',
    payload: object(['op', 'ping'], {}),
    example: { op: 'ping' },
  },
};

/** Every message the server sends; a `Record` over `ServerMessage` for the same reason. */
const SERVER_MESSAGES: Record<ServerMessage['type'], MessageDocs> = {
  subscribed: {
    summary: 'The filter now in force, after each subscribe or unsubscribe',
    payload: object(
      ['type', 'subscribed'],
      {
        types: { type: 'array', items: { type: 'string' } },
        call_ids: { type: 'array', items: { type: 'string' } },
      },
      ['types', 'call_ids'],
    ),
    example: { type: 'subscribed', types: ['call.*'], call_ids: [] },
  },
  event: {
    summary: 'A stored event, in sequence order',
    description:
      '`source` is `openai` (a webhook) or `switchboard` (its own call lifecycle events); `event` is the payload as stored. Call lifecycle events carry `dry_run: true` in their data when nothing was sent to OpenAI.',
    payload: object(
      ['type', 'event'],
      {
        seq: SEQ,
        source: { type: 'string', enum: ['openai', 'switchboard'] },
        event: {
          type: 'object',
          required: ['id', 'type'],
          properties: {
            id: { type: 'string' },
            type: { type: 'string' },
            created_at: { type: 'integer' },
            data: { type: 'object' },
          },
        },
      },
      ['seq', 'source', 'event'],
    ),
    example: {
      type: 'event',
      seq: 121,
      source: 'switchboard',
      event: {
        id: 'sbevt_1',
        object: 'event',
        created_at: 1764057600,
        type: 'call.accepted',
        data: { call_id: 'rtc_1', rule: 'vip-support', dry_run: false },
      },
    },
  },
  caught_up: {
    summary: 'The catch-up is done (or, without `since`, the stream starts here)',
    payload: object(['type', 'caught_up'], { seq: SEQ }, ['seq']),
    example: { type: 'caught_up', seq: 130 },
  },
  pong: {
    summary: 'The answer to a ping',
    payload: object(['type', 'pong'], { seq: SEQ }, ['seq']),
    example: { type: 'pong', seq: 130 },
  },
  error: {
    summary: 'A message that could not be used; the connection and its subscriptions stay',
    payload: object(['type', 'error'], { message: { type: 'string' } }, ['message']),
    example: {
      type: 'error',
      message: 'unknown op "subcribe": use subscribe, unsubscribe or ping',
    },
  },
};

/** The names of every message, by direction, as the document lists them. */
export const STREAM_MESSAGE_NAMES = {
  client: Object.keys(CLIENT_MESSAGES) as ClientMessage['op'][],
  server: Object.keys(SERVER_MESSAGES) as ServerMessage['type'][],
};

const messageId = (direction: 'client' | 'server', name: string) =>
  `${direction === 'client' ? 'client' : 'server'}_${name}`;

/**
 * The WebSocket stream at `/events` as an AsyncAPI 3.0 document, served at
 * `/docs/asyncapi.json` (and `.yaml`) beside the OpenAPI document of the HTTP API.
 */
export function streamAsyncApiDocument(version: string): Record<string, unknown> {
  const messages: Record<string, unknown> = {};
  const channelMessages: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  for (const [direction, table] of [
    ['client', CLIENT_MESSAGES],
    ['server', SERVER_MESSAGES],
  ] as const) {
    for (const [name, docs] of Object.entries(table)) {
      const id = messageId(direction, name);
      messages[id] = {
        name,
        title: name,
        summary: docs.summary,
        ...(docs.description ? { description: docs.description } : {}),
        contentType: 'application/json',
        payload: docs.payload,
        examples: [{ name, payload: docs.example }],
      };
      channelMessages[id] = { $ref: `#/components/messages/${id}` };
      // Operations are the application's (Switchboard's): it receives what clients send.
      operations[`${direction === 'client' ? 'receive' : 'send'}_${name}`] = {
        action: direction === 'client' ? 'receive' : 'send',
        channel: { $ref: '#/channels/events' },
        summary: docs.summary,
        messages: [{ $ref: `#/channels/events/messages/${id}` }],
      };
    }
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Switchboard event stream',
      version,
      description:
        'Every event Switchboard stores (OpenAI webhooks and its own call lifecycle events), live over WebSocket, each with its sequence number, with catch-up from a sequence number and no gap at the seam. JSON text frames. Close codes: 4008 slow consumer (reconnect with `since`), 1001 server shutting down, 1009 frame over 16 KiB.',
    },
    defaultContentType: 'application/json',
    servers: {
      local: {
        host: 'localhost:3000',
        protocol: 'ws',
        description: "the service's own HTTP port",
        security: [
          { $ref: '#/components/securitySchemes/bearer' },
          { $ref: '#/components/securitySchemes/queryToken' },
        ],
      },
    },
    channels: {
      events: {
        address: '/events',
        title: 'The event stream',
        description:
          'Authenticated before the upgrade completes (401 and no socket otherwise; 404 when no token is configured). A browser may subscribe in the URL: `?token=...&types=call.*,batch.*&since=120`.',
        messages: channelMessages,
        bindings: {
          ws: {
            method: 'GET',
            query: {
              type: 'object',
              properties: {
                token: { type: 'string', description: 'ADMIN_TOKEN or one of STREAM_TOKENS' },
                types: { type: 'string', description: 'comma-separated, as in subscribe' },
                call_ids: { type: 'string', description: 'comma-separated, as in subscribe' },
                since: { type: 'string', description: 'a sequence number, as in subscribe' },
              },
            },
          },
        },
      },
    },
    operations,
    components: {
      messages,
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            '`Authorization: Bearer` with ADMIN_TOKEN or one of the read-only STREAM_TOKENS',
        },
        queryToken: {
          type: 'httpApiKey',
          name: 'token',
          in: 'query',
          description: 'the same token in the URL, for browsers',
        },
      },
    },
  };
}
