/** Standard Webhooks secrets are `whsec_` followed by the base64 of the key bytes. */
const SECRET_PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const MIN_KEY_BYTES = 16;

export class InvalidWebhookSecretError extends Error {}

/** Decodes one `whsec_` secret into its key bytes, or says exactly why it cannot. */
export function decodeWebhookSecret(secret: string): Buffer {
  const trimmed = secret.trim();
  if (!trimmed.startsWith(SECRET_PREFIX)) {
    throw new InvalidWebhookSecretError(`a signing secret must start with "${SECRET_PREFIX}"`);
  }
  const encoded = trimmed.slice(SECRET_PREFIX.length);
  if (!BASE64.test(encoded) || encoded.length % 4 === 1) {
    throw new InvalidWebhookSecretError(`the part after "${SECRET_PREFIX}" is not base64`);
  }
  const key = Buffer.from(encoded, 'base64');
  if (key.length < MIN_KEY_BYTES) {
    throw new InvalidWebhookSecretError(
      `a signing secret must decode to at least ${MIN_KEY_BYTES} bytes (got ${key.length})`,
    );
  }
  return key;
}

/** Splits a comma-separated list (for rotation) into decoded keys; empty entries are ignored. */
export function decodeWebhookSecrets(list: string): Buffer[] {
  const keys = list
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map(decodeWebhookSecret);
  if (keys.length === 0) throw new InvalidWebhookSecretError('no signing secret given');
  return keys;
}
