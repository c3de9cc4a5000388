#!/usr/bin/env node
// Sends one correctly signed sample event to a running Switchboard, as OpenAI would.
// Usage: npm run demo [-- <event type>]   (reads OPENAI_WEBHOOK_SECRET, else the dev secret in DATA_DIR)
const { randomUUID } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { join, resolve } = require('node:path');
const { signDelivery } = require('./sign-delivery');

const type = process.argv[2] || 'realtime.call.incoming';
const port = process.env.PORT || 3000;
const secret = (
  process.env.OPENAI_WEBHOOK_SECRET ||
  readFileSync(join(resolve(process.env.DATA_DIR || './data'), 'dev-webhook-secret'), 'utf8')
)
  .split(',')[0]
  .trim();

const data =
  type === 'realtime.call.incoming'
    ? {
        call_id: `rtc_${randomUUID().replace(/-/g, '')}`,
        sip_headers: [
          { name: 'From', value: '"Alice" <sip:+14155550123@pbx.example.com;user=phone>;tag=9fx' },
          { name: 'To', value: '<sip:+18005550100@sip.api.openai.com>' },
          { name: 'Call-ID', value: `${randomUUID()}@pbx.example.com` },
        ],
      }
    : { id: `obj_${randomUUID().replace(/-/g, '')}` };
const body = JSON.stringify({
  id: `evt_${randomUUID().replace(/-/g, '')}`,
  object: 'event',
  created_at: Math.floor(Date.now() / 1000),
  type,
  data,
});
const delivery = signDelivery(secret, body);

fetch(`http://127.0.0.1:${port}/webhooks/openai`, {
  method: 'POST',
  headers: delivery.headers,
  body,
})
  .then(async (res) => {
    console.log(`${res.status} ${await res.text()}`);
    process.exitCode = res.ok ? 0 : 1;
  })
  .catch((error) => {
    console.error(`could not reach Switchboard on port ${port}: ${error.message}`);
    process.exitCode = 1;
  });
