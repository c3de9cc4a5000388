// The verify step alone, per operation: ours (node:crypto, synchronous) against the official
// SDK's `webhooks.unwrap` (WebCrypto, async) and the `standardwebhooks` package. All three
// also parse the JSON, as unwrap and standardwebhooks do, so the work compared is the same.
const OpenAI = require('openai').default;
const { Webhook } = require('standardwebhooks');
const { WebhookSignatureVerifier, decodeWebhookSecrets } = require('../dist');
const { SECRET, makeDeliveries } = require('./deliveries');

async function timePerOp(name, iterations, op) {
  for (let i = 0; i < Math.min(2000, iterations); i++) await op(i); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await op(i);
  const ns = Number(process.hrtime.bigint() - start) / iterations;
  return { name, nsPerOp: ns, opsPerSec: 1e9 / ns };
}

async function benchVerify(iterations = 20000) {
  const deliveries = makeDeliveries(1000);
  const bodies = deliveries.map((d) => Buffer.from(d.body));
  const ours = new WebhookSignatureVerifier({ keys: decodeWebhookSecrets(SECRET) });
  const sdk = new OpenAI({ apiKey: 'unused', webhookSecret: SECRET });
  const standard = new Webhook(SECRET);
  const at = (i) => i % deliveries.length;

  const results = [
    await timePerOp('switchboard verify + JSON.parse', iterations, (i) => {
      const result = ours.verify(deliveries[at(i)].headers, bodies[at(i)]);
      if (!result.ok) throw new Error(result.message);
      JSON.parse(deliveries[at(i)].body);
    }),
    await timePerOp('openai SDK webhooks.unwrap', iterations, (i) =>
      sdk.webhooks.unwrap(deliveries[at(i)].body, deliveries[at(i)].headers),
    ),
    await timePerOp('standardwebhooks Webhook.verify', iterations, (i) =>
      standard.verify(deliveries[at(i)].body, deliveries[at(i)].headers),
    ),
  ];
  return results;
}

module.exports = { benchVerify };
