// Latency from a webhook leaving the sender to the accept request reaching a fake OpenAI,
// under a steady rate of incoming calls, against the real service in its own process.
const { createServer } = require('node:http');
const { sign } = require('./deliveries');
const { startService } = require('./service');

function fakeOpenAI(onAccept) {
  const server = createServer((req, res) => {
    const match = /\/realtime\/calls\/([^/]+)\/accept$/.exec(req.url ?? '');
    req.resume();
    req.on('end', () => {
      if (match) onAccept(match[1], performance.now());
      res.writeHead(200).end();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function callBody(callId) {
  return JSON.stringify({
    id: `evt_${callId}`,
    object: 'event',
    created_at: Math.floor(Date.now() / 1000),
    type: 'realtime.call.incoming',
    data: {
      call_id: callId,
      sip_headers: [
        { name: 'From', value: '"Alice" <sip:+14155550123@pbx.example.com;user=phone>;tag=1' },
        { name: 'To', value: '<sip:+18005550100@sip.api.openai.com>' },
        { name: 'X-Account-Tier', value: 'gold' },
      ],
    },
  });
}

async function benchCallLatency({ rate = 200, seconds = 10, warmupSeconds = 2 } = {}) {
  const sentAt = new Map();
  const warmupCalls = rate * warmupSeconds;
  const latencies = [];
  const fake = await fakeOpenAI((callId, at) => {
    const start = sentAt.get(callId);
    if (start !== undefined && Number(callId.slice('rtc_bench_'.length)) >= warmupCalls)
      latencies.push(at - start);
  });
  // The service's defaults: the rules are the example seeded into its store on first start.
  const service = await startService({
    OPENAI_API_KEY: 'sk-bench',
    OPENAI_BASE_URL: `http://127.0.0.1:${fake.address().port}/v1`,
  });
  const { port } = service;
  try {
    // The first calls pay for JIT compilation and the first connection to OpenAI: they are
    // sent, but measured only from the end of the warm-up.
    const warmup = rate * warmupSeconds;
    const total = warmup + rate * seconds;
    const intervalMs = 10;
    const perTick = (rate * intervalMs) / 1000;
    let sent = 0;
    let failed = 0;
    const inFlight = new Set();
    await new Promise((resolve) => {
      const timer = setInterval(() => {
        for (let i = 0; i < perTick && sent < total; i++, sent++) {
          const callId = `rtc_bench_${sent}`;
          const delivery = sign(callBody(callId));
          sentAt.set(callId, performance.now());
          const request = fetch(`http://127.0.0.1:${port}/webhooks/openai`, {
            method: 'POST',
            headers: delivery.headers,
            body: delivery.body,
          })
            .then((res) => (res.ok ? res.text() : (failed++, res.text())))
            .catch(() => failed++)
            .finally(() => inFlight.delete(request));
          inFlight.add(request);
        }
        if (sent >= total) {
          clearInterval(timer);
          resolve();
        }
      }, intervalMs);
    });
    await Promise.all(inFlight);
    const deadline = Date.now() + 5000;
    while (latencies.length < total - warmup - failed && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    latencies.sort((a, b) => a - b);
    const pick = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
    return {
      rate,
      total: total - warmup,
      accepted: latencies.length,
      failed,
      p50Ms: pick(0.5),
      p99Ms: pick(0.99),
      maxMs: latencies[latencies.length - 1],
    };
  } finally {
    await service.stop();
    fake.close();
  }
}

module.exports = { benchCallLatency };
