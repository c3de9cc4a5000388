import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import OpenAI from 'openai';
import { Webhook } from 'standardwebhooks';
import { decodeWebhookSecret, decodeWebhookSecrets } from './webhook-secret';
import { WebhookSignatureVerifier } from './webhook-signature.verifier';

const SPEC_VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

const SDK_VECTOR = {
  secret: 'whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c=',
  id: 'wh_685c059ae39c8190af8c71ed1022a24d',
  timestamp: 1750861210,
  body: '{"id": "evt_685c059ae3a481909bdc86819b066fb6", "object": "event", "created_at": 1750861210, "type": "response.completed", "data": {"id": "resp_123"}}',
  signature: 'v1,gUAg4R2hWouRZqRQG4uJypNS8YK885G838+EHb4nKBY=',
};

type Vector = typeof SPEC_VECTOR;

function verifierFor(secrets: string, atSeconds: number) {
  return new WebhookSignatureVerifier({
    keys: decodeWebhookSecrets(secrets),
    now: () => atSeconds * 1000,
  });
}

function headersOf(v: Pick<Vector, 'id' | 'timestamp' | 'signature'>) {
  return {
    'webhook-id': v.id,
    'webhook-timestamp': String(v.timestamp),
    'webhook-signature': v.signature,
  };
}

describe('WebhookSignatureVerifier', () => {
  describe.each([
    ['Standard Webhooks spec vector', SPEC_VECTOR],
    ['official openai SDK test vector', SDK_VECTOR],
  ])('%s', (_name, v) => {
    it('accepts the published signature', () => {
      const result = verifierFor(v.secret, v.timestamp).verify(headersOf(v), Buffer.from(v.body));
      expect(result).toEqual({ ok: true, webhookId: v.id, timestamp: v.timestamp });
    });

    it('refuses the same delivery once it is older than 300 s', () => {
      const result = verifierFor(v.secret, v.timestamp + 301).verify(
        headersOf(v),
        Buffer.from(v.body),
      );
      expect(result).toMatchObject({ ok: false, reason: 'timestamp_too_old' });
    });

    it('refuses it 301 s before it was signed (clock skew the other way)', () => {
      const result = verifierFor(v.secret, v.timestamp - 301).verify(
        headersOf(v),
        Buffer.from(v.body),
      );
      expect(result).toMatchObject({ ok: false, reason: 'timestamp_too_new' });
    });

    it('refuses a re-serialised body with the same meaning', () => {
      const reserialised = JSON.stringify(JSON.parse(v.body));
      expect(reserialised).not.toEqual(v.body);
      const result = verifierFor(v.secret, v.timestamp).verify(
        headersOf(v),
        Buffer.from(reserialised),
      );
      expect(result).toMatchObject({ ok: false, reason: 'signature_mismatch' });
    });
  });

  it('accepts any one of several signatures and any one of several secrets (rotation)', () => {
    const v = SDK_VECTOR;
    const other = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
    const headers = {
      ...headersOf(v),
      'webhook-signature': `v1,${Buffer.alloc(32, 1).toString('base64')} ${v.signature}`,
    };
    const result = verifierFor(`${other}, ${v.secret}`, v.timestamp).verify(
      headers,
      Buffer.from(v.body),
    );
    expect(result.ok).toBe(true);
  });

  describe('is stricter than the SDK', () => {
    const v = SDK_VECTOR;
    const verify = (headers: Record<string, string | string[]>) =>
      verifierFor(v.secret, v.timestamp).verify(headers, Buffer.from(v.body));

    it('ignores signatures of other versions even when their bytes match', () => {
      const result = verify({
        ...headersOf(v),
        'webhook-signature': v.signature.replace('v1,', 'v2,'),
      });
      expect(result).toMatchObject({ ok: false, reason: 'no_v1_signature' });
    });

    it('ignores a signature without a version prefix (the SDK takes it)', () => {
      const result = verify({ ...headersOf(v), 'webhook-signature': v.signature.slice(3) });
      expect(result).toMatchObject({ ok: false, reason: 'no_v1_signature' });
    });

    it.each(['1750861210.0', '+1750861210', ' 1750861210', '1750861210abc', '0x68'])(
      'refuses the timestamp %j (digits only)',
      (timestamp) => {
        expect(verify({ ...headersOf(v), 'webhook-timestamp': timestamp })).toMatchObject({
          ok: false,
          reason: 'malformed_timestamp',
        });
      },
    );

    it('refuses a signature that decodes to other than 32 bytes', () => {
      const truncated =
        'v1,' + Buffer.from(v.signature.slice(3), 'base64').subarray(0, 31).toString('base64');
      expect(verify({ ...headersOf(v), 'webhook-signature': truncated })).toMatchObject({
        ok: false,
        reason: 'no_v1_signature',
      });
    });

    it('refuses the same digest spelled with the unused last two bits set (non-canonical base64)', () => {
      const digest = Buffer.from(v.signature.slice(3), 'base64');
      const canonical = digest.toString('base64');
      const last = canonical.at(-2)!;
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
      for (const low of [1, 2, 3]) {
        const other = alphabet[alphabet.indexOf(last) + low];
        const spelled = `${canonical.slice(0, -2)}${other}=`;
        expect(Buffer.from(spelled, 'base64').equals(digest)).toBe(true); // same bytes
        expect(verify({ ...headersOf(v), 'webhook-signature': `v1,${spelled}` })).toMatchObject({
          ok: false,
          reason: 'no_v1_signature',
        });
      }
    });

    it('refuses repeated or missing headers', () => {
      expect(verify({ ...headersOf(v), 'webhook-id': [v.id, v.id] })).toMatchObject({
        reason: 'missing_headers',
      });
      const { 'webhook-signature': _omitted, ...unsigned } = headersOf(v);
      expect(verify(unsigned)).toMatchObject({ reason: 'missing_headers' });
    });
  });

  it('accepts what the standardwebhooks package signs, and the SDK accepts what we accept', async () => {
    const secret = 'whsec_' + Buffer.from('switchboard-test-secret-0123456789').toString('base64');
    const signer = new Webhook(secret);
    const client = new OpenAI({ apiKey: 'unused', webhookSecret: secret });
    const nowSeconds = Math.floor(Date.now() / 1000);
    const verifier = verifierFor(secret, nowSeconds);
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 200 }),
        fc.uuid(),
        async (text, uuid) => {
          const body = JSON.stringify({ type: 'batch.completed', text });
          const id = `msg_${uuid}`;
          const timestamp = new Date(nowSeconds * 1000);
          const signature = signer.sign(id, timestamp, body);
          const headers = {
            'webhook-id': id,
            'webhook-timestamp': String(nowSeconds),
            'webhook-signature': signature,
          };
          expect(verifier.verify(headers, Buffer.from(body)).ok).toBe(true);
          await expect(client.webhooks.unwrap(body, headers, secret)).resolves.toEqual(
            JSON.parse(body),
          );
        },
      ),
      { numRuns: 50 },
    );
  });

  it('the SDK accepts what we accept with several signatures in one header, signed by any secret of a rotation', async () => {
    const secrets = ['rotation-old-secret-0123456789', 'rotation-new-secret-9876543210'].map(
      (text) => 'whsec_' + Buffer.from(text).toString('base64'),
    );
    const stranger = new Webhook(
      'whsec_' + Buffer.from('not-ours-secret-0123456789').toString('base64'),
    );
    const signers = secrets.map((secret) => new Webhook(secret));
    const client = new OpenAI({ apiKey: 'unused' });
    const nowSeconds = Math.floor(Date.now() / 1000);
    const verifier = verifierFor(secrets.join(','), nowSeconds);
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 200 }),
        fc.uuid(),
        // Which secrets signed this delivery (at least one: during a rotation, either or both).
        fc.subarray([0, 1], { minLength: 1 }),
        // Other entries around the good ones: a stranger's signature, random bytes, a v2 entry.
        fc.array(fc.constantFrom('stranger', 'random', 'v2'), { maxLength: 5 }),
        fc.nat(),
        async (text, uuid, signedBy, noise, shuffle) => {
          const body = JSON.stringify({ type: 'batch.completed', text });
          const id = `msg_${uuid}`;
          const at = new Date(nowSeconds * 1000);
          const good = signedBy.map((i) => signers[i].sign(id, at, body));
          const other = noise.map((kind) =>
            kind === 'stranger'
              ? stranger.sign(id, at, body)
              : kind === 'random'
                ? `v1,${Buffer.from(`${uuid}${text}`).subarray(0, 32).toString('base64')}`
                : `v2,${good[0].slice(3)}`,
          );
          const entries = [...other];
          for (const [n, entry] of good.entries()) {
            entries.splice((shuffle + n) % (entries.length + 1), 0, entry);
          }
          const headers = {
            'webhook-id': id,
            'webhook-timestamp': String(nowSeconds),
            'webhook-signature': entries.join(' '),
          };
          const ours = verifier.verify(headers, Buffer.from(body));
          expect(ours.ok).toBe(true);
          accepted += 1;
          // Whichever of the secrets signed it, the SDK given that secret accepts it too.
          for (const i of signedBy) {
            await expect(client.webhooks.unwrap(body, headers, secrets[i])).resolves.toEqual(
              JSON.parse(body),
            );
          }
        },
      ),
      { numRuns: 50 },
    );
    expect(accepted).toBe(50);
  });

  describe('property: any flipped bit is refused, never thrown', () => {
    const v = SDK_VECTOR;
    const verifier = verifierFor(v.secret, v.timestamp);
    const fields = ['webhook-id', 'webhook-timestamp', 'webhook-signature', 'body'] as const;

    it('refuses every single-bit change in id, timestamp, body or signature (all of them)', () => {
      let flips = 0;
      for (const field of fields) {
        const original =
          field === 'body'
            ? Buffer.from(v.body)
            : Buffer.from((headersOf(v) as Record<string, string>)[field], 'latin1');
        for (let at = 0; at < original.length; at++) {
          for (let bit = 0; bit < 8; bit++) {
            const bytes = Buffer.from(original);
            bytes[at] ^= 1 << bit;
            const headers = headersOf(v) as Record<string, string>;
            if (field !== 'body') headers[field] = bytes.toString('latin1');
            const result = verifier.verify(headers, field === 'body' ? bytes : Buffer.from(v.body));
            expect({ field, at, bit, ok: result.ok }).toEqual({ field, at, bit, ok: false });
            flips += 1;
          }
        }
      }
      expect(flips).toBe((v.id.length + 10 + v.signature.length + v.body.length) * 8);
    });

    it('never throws on arbitrary header values and bodies', () => {
      fc.assert(
        fc.property(fc.string(), fc.string(), fc.string(), fc.uint8Array(), (id, ts, sig, body) => {
          const result = verifier.verify(
            { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sig },
            Buffer.from(body),
          );
          expect(result.ok).toBe(false);
        }),
        { numRuns: 500 },
      );
    });
  });

  it('computes the same HMAC as a hand-made one over id.timestamp.body', () => {
    const key = decodeWebhookSecret(SPEC_VECTOR.secret);
    const mac = createHmac('sha256', key)
      .update(`${SPEC_VECTOR.id}.${SPEC_VECTOR.timestamp}.${SPEC_VECTOR.body}`)
      .digest('base64');
    expect(`v1,${mac}`).toBe(SPEC_VECTOR.signature);
  });
});

describe('decodeWebhookSecret', () => {
  it.each([
    ['no prefix', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'must start with "whsec_"'],
    ['not base64', 'whsec_not base64!', 'is not base64'],
    ['too short', 'whsec_c2hvcnQ=', 'at least 16 bytes'],
  ])('refuses a secret with %s', (_case, secret, message) => {
    expect(() => decodeWebhookSecret(secret)).toThrow(message);
  });

  it('ignores blanks in a rotation list', () => {
    expect(decodeWebhookSecrets(` ${SPEC_VECTOR.secret} ,, ${SDK_VECTOR.secret}`)).toHaveLength(2);
  });
});
