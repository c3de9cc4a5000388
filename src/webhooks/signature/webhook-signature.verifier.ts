import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Request headers with lower-case names, as Node gives them; the three Standard Webhooks
 * headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`) may be missing or repeated.
 */
export type WebhookSignatureHeaders = Readonly<Record<string, string | string[] | undefined>>;

export type SignatureFailure =
  | 'missing_headers'
  | 'malformed_id'
  | 'malformed_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'no_v1_signature'
  | 'signature_mismatch';

export type VerificationResult =
  | { ok: true; webhookId: string; timestamp: number }
  | { ok: false; reason: SignatureFailure; message: string };

export interface VerifierOptions {
  /** Decoded keys; several during a rotation, any one may sign. */
  keys: readonly Buffer[];
  /** Accepted clock difference, both ways, in seconds. */
  toleranceSeconds?: number;
  /** Injected for tests with a fixed clock. */
  now?: () => number;
}

const SHA256_BYTES = 32;
const MAX_ID_LENGTH = 256;
// Printable ASCII without spaces: the id is part of the signed content and of our store key.
const ID_PATTERN = /^[\x21-\x7e]+$/;
const TIMESTAMP_PATTERN = /^\d{1,12}$/;
const MAX_SIGNATURES = 16;

/**
 * Checks a Standard Webhooks signature the way OpenAI signs: HMAC-SHA256 over
 * `id.timestamp.body` (the raw bytes that arrived), base64, `v1,` prefixed, space separated.
 * Synchronous `node:crypto` on purpose: it is an order of magnitude faster than WebCrypto.
 */
export class WebhookSignatureVerifier {
  private readonly keys: readonly Buffer[];
  private readonly toleranceSeconds: number;
  private readonly now: () => number;

  constructor(options: VerifierOptions) {
    if (options.keys.length === 0) throw new Error('at least one signing key is required');
    this.keys = options.keys;
    this.toleranceSeconds = options.toleranceSeconds ?? 300;
    this.now = options.now ?? (() => Date.now());
  }

  verify(headers: WebhookSignatureHeaders, body: Buffer): VerificationResult {
    const id = single(headers['webhook-id']);
    const timestampText = single(headers['webhook-timestamp']);
    const signatureHeader = single(headers['webhook-signature']);
    if (id === undefined || timestampText === undefined || signatureHeader === undefined) {
      return fail(
        'missing_headers',
        'webhook-id, webhook-timestamp and webhook-signature are required, once each',
      );
    }
    if (id.length > MAX_ID_LENGTH || !ID_PATTERN.test(id)) {
      return fail('malformed_id', 'webhook-id must be 1-256 printable characters without spaces');
    }
    if (!TIMESTAMP_PATTERN.test(timestampText)) {
      return fail('malformed_timestamp', 'webhook-timestamp must be whole seconds, digits only');
    }
    const timestamp = Number(timestampText);
    const nowSeconds = Math.floor(this.now() / 1000);
    if (nowSeconds - timestamp > this.toleranceSeconds) {
      return fail('timestamp_too_old', 'webhook-timestamp is outside the tolerance (too old)');
    }
    if (timestamp - nowSeconds > this.toleranceSeconds) {
      return fail(
        'timestamp_too_new',
        'webhook-timestamp is outside the tolerance (in the future)',
      );
    }

    const candidates = v1Signatures(signatureHeader);
    if (candidates.length === 0) {
      return fail('no_v1_signature', 'webhook-signature holds no well-formed v1 signature');
    }
    const prefix = Buffer.from(`${id}.${timestampText}.`, 'latin1');
    for (const key of this.keys) {
      const expected = createHmac('sha256', key).update(prefix).update(body).digest();
      for (const candidate of candidates) {
        if (timingSafeEqual(expected, candidate)) return { ok: true, webhookId: id, timestamp };
      }
    }
    return fail('signature_mismatch', 'no signature matches any configured secret');
  }
}

function single(value: string | string[] | undefined): string | undefined {
  if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined;
  return value;
}

// 32 bytes in canonical base64: 42 digits, one whose last two bits are zero (they carry no
// data), and '='. A decoder ignores those two bits, so without this check one digest could be
// spelled four ways, and a single flipped bit of a signature could still be accepted.
const STRICT_BASE64 = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/** Only `v1,` entries count, and only those that decode to exactly one SHA-256 digest. */
function v1Signatures(header: string): Buffer[] {
  const found: Buffer[] = [];
  for (const entry of header.split(' ').slice(0, MAX_SIGNATURES)) {
    if (!entry.startsWith('v1,')) continue;
    const encoded = entry.slice(3);
    if (!STRICT_BASE64.test(encoded)) continue;
    const bytes = Buffer.from(encoded, 'base64');
    if (bytes.length === SHA256_BYTES) found.push(bytes);
  }
  return found;
}

function fail(reason: SignatureFailure, message: string): VerificationResult {
  return { ok: false, reason, message };
}
