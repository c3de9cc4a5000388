// Many answered calls at once, each with its live sideband, against a fake OpenAI in this
// process: Switchboard (dist/main.js, production defaults) answers `calls` Live calls, holds a
// sideband to each, and the fake speaks on every one of them at a human rate (a transcript
// delta every 400 ms, the speaker changing every 8 deltas: ~2.5 words a second) with one
// function call per call per minute. Measured: the service's memory per call (RSS with the
// calls open, less RSS before them), p99 from a function call sent to its output arriving
// (what Switchboard adds: no handler of its own runs, the service has no tool runner, so the
// output is the `unknown_tool` answer), and the service's CPU share during the steady phase.
const { createServer } = require('node:http');
const { mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { WebSocketServer } = require('ws');
const { sign, twinCallBodies } = require('./deliveries');
const { startProcess } = require('./http');
const { startService } = require('./service');

const ACCEPT = /^\/v1\/live\/sessions\/([^/]+)\/accept$/;
const ATTACH = /^\/v1\/live\/sessions\/([^/]+)\/attach$/;

const RULES = `rules:
  - id: bench
    action:
      accept:
        live:
          model: gpt-live-1
          instructions: You are a support agent.
          delegation: { type: responses, responses: { model: gpt-5 } }
        greeting: Thank you for calling.
        call_tools: [lookup_order]
        transcripts: true
`;

function fakeOpenAI() {
  const accepted = new Set();
  const sockets = new Map();
  const outputs = new Map(); // tool call id -> arrival times (exactly one expected)
  const http = createServer((req, res) => {
    const match = ACCEPT.exec(req.url ?? '');
    req.resume();
    req.on('end', () => {
      if (match) accepted.add(match[1]);
      res.writeHead(200).end();
    });
  });
  http.keepAliveTimeout = 60000;
  const wss = new WebSocketServer({ noServer: true });
  http.on('upgrade', (req, socket, head) => {
    const match = ATTACH.exec(req.url ?? '');
    if (!match) return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.set(match[1], ws);
      ws.on('message', (data) => {
        const event = JSON.parse(String(data));
        if (event.type === 'response.item.create' && event.item?.type === 'function_call_output') {
          const list = outputs.get(event.item.call_id) ?? [];
          list.push(performance.now());
          outputs.set(event.item.call_id, list);
        }
      });
    });
  });
  return new Promise((resolve) =>
    http.listen(0, '127.0.0.1', () => resolve({ http, wss, accepted, sockets, outputs })),
  );
}

/** utime + stime of a process, in seconds (Linux). */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks, 100 per second
}

function rssBytes(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(line[1]) * 1024;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * `target`: `switchboard` (dist/main.js answering the calls) or `floor` (a bare WebSocket client
 * process holding the same sidebands: bench/servers/sideband-floor.js), measured the same way.
 */
async function benchSidebands({
  calls = 1000,
  seconds = 30,
  rate = 200,
  env = {},
  target = 'switchboard',
} = {}) {
  const fake = await fakeOpenAI();
  const rulesDir = mkdtempSync(join(tmpdir(), 'sidebands-rules-'));
  const rulesFile = join(rulesDir, 'rules.yaml');
  writeFileSync(rulesFile, RULES);
  const fakeURL = `http://127.0.0.1:${fake.http.address().port}`;
  const server =
    target === 'floor'
      ? await startProcess('sideband-floor.js', { FAKE_URL: fakeURL, CALLS: String(calls) })
      : await startService(
          {
            OPENAI_API_KEY: 'sk-bench',
            OPENAI_BASE_URL: `${fakeURL}/v1`,
            SIDEBAND_MAX_CALLS: String(calls),
            RULES_FILE: rulesFile,
            ...env,
          },
          { name: 'sidebands' },
        );
  const pid = server.pid ?? server.child.pid;
  const timers = [];
  try {
    await sleep(1000);
    const rssBefore = rssBytes(pid);
    const ids = Array.from({ length: calls }, (_, n) => `live_bench_${n}`);
    for (let n = 0; n < calls && target !== 'floor'; n++) {
      const [, live] = twinCallBodies({ liveId: ids[n] });
      const delivery = sign(live);
      void fetch(`http://127.0.0.1:${server.port}/webhooks/openai`, {
        method: 'POST',
        headers: delivery.headers,
        body: delivery.body,
      }).then((res) => res.text());
      if (n % Math.max(1, Math.round(rate / 100)) === 0) await sleep(10);
    }
    await until(() => fake.sockets.size >= calls, 60_000, `${calls} sidebands`);

    // The steady phase: every call speaks, and calls a tool once a minute (at a random moment).
    const sentAt = new Map();
    let deltas = 0;
    ids.forEach((id, n) => {
      const ws = fake.sockets.get(id);
      let i = 0;
      const speak = () => {
        const caller = Math.floor(i / 8) % 2 === 0;
        i++;
        deltas++;
        ws.send(
          JSON.stringify({
            type: caller ? 'session.input_transcript.delta' : 'session.output_transcript.delta',
            delta: 'word ',
          }),
        );
      };
      timers.push(setTimeout(() => timers.push(setInterval(speak, 400)), Math.random() * 400));
      const callTool = () => {
        const toolCallId = `fc_${n}_${Date.now()}`;
        sentAt.set(toolCallId, performance.now());
        ws.send(
          JSON.stringify({
            type: 'response.event',
            event: {
              type: 'response.output_item.done',
              item: {
                type: 'function_call',
                call_id: toolCallId,
                name: 'lookup_order',
                arguments: '{"order_id":"A17"}',
              },
            },
          }),
        );
      };
      timers.push(setTimeout(callTool, Math.random() * 60_000));
    });
    const cpuStart = cpuSeconds(pid);
    const wallStart = performance.now();
    await sleep(seconds * 1000);
    const cpu = cpuSeconds(pid) - cpuStart;
    const wall = (performance.now() - wallStart) / 1000;
    const rssWith = rssBytes(pid);
    for (const timer of timers) clearInterval(timer); // clears timeouts too
    await until(() => [...sentAt.keys()].every((id) => fake.outputs.has(id)), 10_000, 'outputs');

    const latencies = [...sentAt]
      .map(([id, at]) => fake.outputs.get(id)[0] - at)
      .sort((a, b) => a - b);
    const duplicates = [...fake.outputs.values()].filter((list) => list.length > 1).length;
    const pick = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
    return {
      calls,
      accepted: fake.accepted.size,
      sidebands: fake.sockets.size,
      deltas,
      toolCalls: latencies.length,
      duplicates,
      memoryPerCallKiB: (rssWith - rssBefore) / calls / 1024,
      rssBeforeMiB: rssBefore / 1024 / 1024,
      rssWithMiB: rssWith / 1024 / 1024,
      p50Ms: pick(0.5),
      p99Ms: pick(0.99),
      maxMs: latencies[latencies.length - 1],
      cpuShare: cpu / wall,
    };
  } finally {
    for (const timer of timers) clearInterval(timer); // clears timeouts too
    for (const ws of fake.sockets.values()) ws.terminate();
    await server.stop();
    fake.wss.close();
    fake.http.close();
    rmSync(rulesDir, { recursive: true, force: true });
  }
}

module.exports = { benchSidebands };
