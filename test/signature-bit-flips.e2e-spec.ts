import { createHmac } from 'node:crypto';
import { RawHttpClient, RawResponse } from './support/raw-http-client';
import { TEST_SECRET } from './support/signing';
import { createTestApp, TestApp } from './support/test-app';

/** Every bit of every BODY_STRIDE-th byte of the body is flipped: a quarter of its bits. */
const BODY_STRIDE = 4;
const NOW_SECONDS = 1_790_000_000; // the app's clock is fixed, so the delivery is too
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

interface Fields {
  id: Buffer;
  timestamp: Buffer;
  signature: Buffer;
  body: Buffer;
}
type Field = keyof Fields;

function sign(id: string, timestamp: string, body: string): string {
  const key = Buffer.from(TEST_SECRET.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/**
 * One bit flip of the signature's last base64 digit can land on a digit that differs only in
 * the two bits a 32-byte digest leaves unused: the same digest, spelled otherwise. The
 * delivery is chosen so that its signature has such a neighbour, and that case is covered.
 */
function hasPaddingNeighbour(signature: string): boolean {
  const last = signature.at(-2)!; // before the '='
  const value = BASE64.indexOf(last);
  return [0, 1, 2, 3, 4, 5, 6, 7].some((bit) => {
    const flipped = BASE64.indexOf(String.fromCharCode(last.charCodeAt(0) ^ (1 << bit)));
    return flipped >= 0 && flipped >> 2 === value >> 2;
  });
}

function signedDelivery(): Fields {
  const timestamp = String(NOW_SECONDS);
  for (let n = 0; n < 1000; n++) {
    const id = `wh_2f1c9a7e5b3d4c6e8a0b1d3f5e7a9c1${n % 10}`;
    const body = JSON.stringify({
      id: 'evt_685c059ae3a481909bdc86819b066fb6',
      object: 'event',
      created_at: NOW_SECONDS,
      type: 'realtime.call.incoming',
      data: {
        call_id: `rtc_0f3e9a1b2c4d4e6f8a9b0c1d2e3f${String(n).padStart(4, '0')}`,
        sip_headers: [
          { name: 'From', value: '"Alice" <sip:+14155550123@pbx.example.com>;tag=9fxced76sl' },
          { name: 'To', value: '<sip:+18005550100@sip.api.openai.com>' },
          { name: 'Call-ID', value: 'a84b4c76e66710@pbx.example.com' },
          { name: 'X-Account-Tier', value: 'gold' },
        ],
      },
    });
    const signature = sign(id, timestamp, body);
    if (hasPaddingNeighbour(signature)) {
      return {
        id: Buffer.from(id),
        timestamp: Buffer.from(timestamp),
        signature: Buffer.from(signature),
        body: Buffer.from(body),
      };
    }
  }
  throw new Error('no delivery with a padding neighbour in 1000 tries');
}

function requestOf(fields: Fields): Buffer {
  return RawHttpClient.request(
    '/webhooks/openai',
    [
      ['Content-Type', 'application/json'],
      ['webhook-id', fields.id],
      ['webhook-timestamp', fields.timestamp],
      ['webhook-signature', fields.signature],
    ],
    fields.body,
  );
}

/** Bytes no HTTP header value may hold: Node's parser refuses them before the app sees anything. */
const notHttp = (byte: number) => (byte < 0x20 && byte !== 0x09) || byte === 0x7f;

describe(`flip every bit of webhook-id, webhook-timestamp and webhook-signature, and every bit of 1 body byte in ${BODY_STRIDE}, over HTTP`, () => {
  let t: TestApp;
  let client: RawHttpClient;
  const original = signedDelivery();

  beforeAll(async () => {
    t = await createTestApp({ listen: true, options: { now: () => NOW_SECONDS * 1000 } });
    client = new RawHttpClient(t.port);
  });
  afterAll(async () => {
    client.close();
    await t.close();
  });

  async function flipEveryBit(field: Field, stride: number) {
    const seen = new Map<string, number>();
    for (let at = 0; at < original[field].length; at += stride) {
      for (let bit = 0; bit < 8; bit++) {
        const flipped = { ...original, [field]: Buffer.from(original[field]) };
        flipped[field][at] ^= 1 << bit;
        const response: RawResponse = await client.send(requestOf(flipped));
        const where = `${field}[${at}] bit ${bit} (${JSON.stringify(String.fromCharCode(flipped[field][at]))})`;
        let outcome: string;
        if (field !== 'body' && notHttp(flipped[field][at])) {
          // Refused by Node's HTTP parser: a plain 400, not the app's JSON.
          expect({ where, status: response.status, body: response.body }).toEqual({
            where,
            status: 400,
            body: '',
          });
          outcome = '400 from the HTTP parser';
        } else {
          expect({ where, status: response.status }).toEqual({ where, status: 401 });
          outcome = `401 ${(JSON.parse(response.body) as { reason: string }).reason}`;
        }
        seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
      }
    }
    return Object.fromEntries(seen);
  }

  it.each([
    ['webhook-id', 'id', 1],
    ['webhook-timestamp', 'timestamp', 1],
    ['webhook-signature', 'signature', 1],
    [`body (every bit of 1 byte in ${BODY_STRIDE})`, 'body', BODY_STRIDE],
  ] as const)(
    '%s: always 401 (or the HTTP parser 400), never 500',
    async (_name, field, stride) => {
      const outcomes = await flipEveryBit(field, stride);
      expect(Object.values(outcomes).reduce((a, b) => a + b, 0)).toBe(
        Math.ceil(original[field].length / stride) * 8,
      );
      if (field === 'body')
        expect(outcomes).toEqual({ '401 signature_mismatch': expect.any(Number) });
      expect(await t.store.list({ limit: 10 })).toEqual([]);
    },
  );

  it('accepts the delivery itself, unflipped (the flips above were refused for their bit alone)', async () => {
    const response = await client.send(requestOf(original));
    expect(response.status).toBe(200);
    expect(await t.store.list({ limit: 10 })).toHaveLength(1);
  });
});
