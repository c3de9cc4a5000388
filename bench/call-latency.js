// Latency from a webhook leaving the sender to the accept request reaching a fake OpenAI,
// under a steady rate of incoming calls, against a server in its own process: the real
// service, or the latency floor (bench/servers/latency-floor.js) measured the same way.
const { createServer } = require('node:http');
const { WebSocketServer } = require('ws');
const { SECRET, incomingCallBody, sign, twinCallBodies } = require('./deliveries');
const { startProcess } = require('./http');
const { startService } = require('./service');

/** The fake's view: which call an accept is for, on either surface. */
const ACCEPT = /\/(?:realtime\/calls|live\/sessions)\/(?:rtc|live)_bench_(\d+)\/accept$/;

function fakeOpenAI(onAccept) {
  const server = createServer((req, res) => {
    const match = ACCEPT.exec(req.url ?? '');
    req.resume();
    req.on('end', () => {
      if (match) onAccept(Number(match[1]), performance.now());
      res.writeHead(200).end();
    });
  });
  // Each answered call's sideband, as OpenAI holds it: accepted and kept open. Refused, it
  // would have the service reconnecting every call's sideband through the run, which is not
  // the path being measured (and on PostgreSQL, each attempt's record writes queue calls).
  const sidebands = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    if (!/\/v1\/(?:realtime\?call_id=|live\/sessions\/[^/]+\/attach)/.test(req.url ?? ''))
      return socket.destroy();
    sidebands.handleUpgrade(req, socket, head, () => {});
  });
  server.keepAliveTimeout = 60000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Call `n`'s announcements: its Realtime one, and with twins its Live one too. */
function announcements(n, twins) {
  if (twins) return twinCallBodies({ realtimeId: `rtc_bench_${n}`, liveId: `live_bench_${n}` });
  const body = JSON.parse(incomingCallBody());
  body.data.call_id = `rtc_bench_${n}`;
  return [JSON.stringify(body)];
}

/**
 * `target`: `switchboard` (dist/main.js with the production defaults and its seeded example
 * rules, `env` on top: DATABASE_URL, STORE_SYNCHRONOUS...) or `floor`. `twins`: each call is
 * announced on both surfaces at the same moment.
 */
async function benchCallLatency({
  rate = 200,
  seconds = 10,
  warmupSeconds = 2,
  target = 'switchboard',
  twins = false,
  env = {},
} = {}) {
  const sentAt = new Map();
  const warmupCalls = rate * warmupSeconds;
  const latencies = [];
  const answered = new Set();
  let duplicates = 0;
  const fake = await fakeOpenAI((n, at) => {
    // One accept per call: a second one (a twin routed again) is counted, and fails the run.
    if (answered.has(n)) duplicates += 1;
    answered.add(n);
    const start = sentAt.get(n);
    if (start !== undefined && n >= warmupCalls && duplicates === 0) latencies.push(at - start);
  });
  const openai = {
    OPENAI_API_KEY: 'sk-bench',
    OPENAI_BASE_URL: `http://127.0.0.1:${fake.address().port}/v1`,
  };
  const server =
    target === 'floor'
      ? await startProcess('latency-floor.js', { ...openai, OPENAI_WEBHOOK_SECRET: SECRET })
      : await startService({ ...openai, ...env });
  const { port } = server;
  try {
    // The first calls pay for JIT compilation and the first connection to OpenAI: they are
    // sent, but measured only from the end of the warm-up.
    const total = warmupCalls + rate * seconds;
    const intervalMs = 10;
    const perTick = (rate * intervalMs) / 1000;
    let sent = 0;
    let failed = 0;
    const inFlight = new Set();
    const post = (body) => {
      const delivery = sign(body);
      const request = fetch(`http://127.0.0.1:${port}/webhooks/openai`, {
        method: 'POST',
        headers: delivery.headers,
        body: delivery.body,
      })
        .then((res) => (res.ok ? res.text() : (failed++, res.text())))
        .catch(() => failed++)
        .finally(() => inFlight.delete(request));
      inFlight.add(request);
    };
    await new Promise((resolve) => {
      const timer = setInterval(() => {
        for (let i = 0; i < perTick && sent < total; i++, sent++) {
          const bodies = announcements(sent, twins);
          sentAt.set(sent, performance.now());
          for (const body of bodies) post(body);
        }
        if (sent >= total) {
          clearInterval(timer);
          resolve();
        }
      }, intervalMs);
    });
    await Promise.all(inFlight);
    const deadline = Date.now() + 5000;
    while (latencies.length < total - warmupCalls - failed && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    // A moment more, so that an accept sent twice would be seen.
    await new Promise((r) => setTimeout(r, 200));
    latencies.sort((a, b) => a - b);
    const pick = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
    return {
      rate,
      total: total - warmupCalls,
      accepted: latencies.length,
      failed,
      duplicates,
      p50Ms: pick(0.5),
      p99Ms: pick(0.99),
      maxMs: latencies[latencies.length - 1],
    };
  } finally {
    await server.stop();
    fake.close();
  }
}

module.exports = { benchCallLatency };
