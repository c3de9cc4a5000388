// The latency floor of a call: the least a webhook receiver can do and still answer a ringing
// call safely. It verifies the Standard Webhooks signature (HMAC-SHA256 over id.timestamp.body,
// constant-time compare) and sends the accept to OpenAI (the benchmark's fake, through fetch as
// the official SDK does), and nothing else: no store, no dedup, no rules, no log, no retries.
// Switchboard's latency is read against this, measured in the same run.
const { createHmac, timingSafeEqual } = require('node:crypto');
const { createServer } = require('node:http');
const { announce } = require('./listen');

const key = Buffer.from(process.env.OPENAI_WEBHOOK_SECRET.replace(/^whsec_/, ''), 'base64');
const base = process.env.OPENAI_BASE_URL;
const SESSION = JSON.stringify({ type: 'realtime', model: 'gpt-realtime' });

function verified(headers, body) {
  const expected = createHmac('sha256', key)
    .update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.`)
    .update(body)
    .digest();
  return String(headers['webhook-signature'] ?? '')
    .split(' ')
    .some((entry) => {
      const given = Buffer.from(entry.slice(3), 'base64');
      return entry.startsWith('v1,') && given.length === 32 && timingSafeEqual(given, expected);
    });
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (!verified(req.headers, body)) {
      res.writeHead(401).end();
      return;
    }
    const event = JSON.parse(body.toString());
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
    if (event.type !== 'realtime.call.incoming') return;
    void fetch(`${base}/realtime/calls/${encodeURIComponent(event.data.call_id)}/accept`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' },
      body: SESSION,
    })
      .then((answer) => answer.arrayBuffer())
      .catch(() => undefined);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => announce(server));
