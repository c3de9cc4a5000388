// Signs a webhook body exactly as OpenAI does (Standard Webhooks: v1, HMAC-SHA256 over
// `id.timestamp.body` with the base64 key of a `whsec_` secret). Shared by `npm run demo` and
// the benchmark; the tests have their TypeScript twin in test/support/signing.ts.
const { createHmac, randomUUID } = require('node:crypto');

function signDelivery(
  secret,
  body,
  id = `wh_${randomUUID().replace(/-/g, '')}`,
  timestamp = String(Math.floor(Date.now() / 1000)),
) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': timestamp,
      'webhook-signature': `v1,${signature}`,
    },
  };
}

module.exports = { signDelivery };
