// Latency from a webhook leaving the sender to the accept request reaching a fake OpenAI,
// under a steady rate of incoming calls, against the real service in its own process.
const { spawn } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const { createServer } = require('node:http');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { SECRET, sign } = require('./deliveries');

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

function startService(env) {
  const child = spawn(process.execPath, [join(__dirname, '..', 'dist', 'main.js')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('service did not start in 20 s')), 20000);
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk.toString();
      const match = /listening on http:\/\/localhost:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        // From here on the child's log is drained unread: the load generator's CPU is for load.
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        resolve({ child, port: Number(match[1]) });
      }
    });
    child.on('exit', (code) =>
      reject(new Error(`service exited with ${code}: ${output.slice(-500)}`)),
    );
  });
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
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-calls-bench-'));
  const { child, port } = await startService({
    OPENAI_WEBHOOK_SECRET: SECRET,
    OPENAI_API_KEY: 'sk-bench',
    OPENAI_BASE_URL: `http://127.0.0.1:${fake.address().port}/v1`,
    DATA_DIR: dataDir,
    PORT: '0',
    NODE_ENV: 'production',
    RULES_FILE: join(__dirname, '..', 'rules', 'example.yaml'),
  });
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
    child.kill('SIGKILL');
    fake.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

module.exports = { benchCallLatency };
