// Fan-out: many WebSocket subscribers on loopback, events posted through the webhook endpoint.
// Switchboard (verify, store, then stream) against a bare `ws` broadcast of the same messages.
const { spawn } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { WebSocket: WsClient } = require('ws');
const { SECRET, sign, responseCompletedBody } = require('./deliveries');

const TOKEN = 'bench-stream-token';

function startProcess(file, env) {
  const child = spawn(process.execPath, [file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${file} did not start in 20 s`)), 20000);
    child.stdout.on('data', (chunk) => {
      output += chunk.toString();
      const match = /LISTENING (\d+)|listening on http:\/\/localhost:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        // From here on the child's log is drained unread: the load generator's CPU is for load.
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        resolve({ child, port: Number(match[1] ?? match[2]) });
      }
    });
    child.on('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
  });
}

/** Connects `count` subscribers; each records, per event id, when the message arrived. */
async function subscribers(port, count, onMessage, subscribe) {
  const sockets = [];
  for (let i = 0; i < count; i += 50) {
    const batch = Array.from({ length: Math.min(50, count - i) }, () => {
      const socket = new WsClient(`ws://127.0.0.1:${port}/events`, {
        headers: { Authorization: `Bearer ${TOKEN}` },
      });
      return new Promise((resolve, reject) => {
        socket.once('error', reject);
        socket.once('open', () => {
          if (!subscribe) return resolve(socket);
          socket.send(JSON.stringify({ op: 'subscribe', types: ['*'] }));
          socket.on('message', function ready(data) {
            if (data.toString().includes('"caught_up"')) {
              socket.off('message', ready);
              resolve(socket);
            }
          });
        });
      });
    });
    sockets.push(...(await Promise.all(batch)));
  }
  for (const socket of sockets) socket.on('message', onMessage);
  return sockets;
}

function eventIdOf(data) {
  const text = data.toString();
  const at = text.indexOf('"id":"');
  return at < 0 ? undefined : text.slice(at + 6, text.indexOf('"', at + 6));
}

async function post(port, delivery) {
  const res = await fetch(`http://127.0.0.1:${port}/webhooks/openai`, {
    method: 'POST',
    headers: delivery.headers,
    body: delivery.body,
  });
  await res.text();
  if (!res.ok) throw new Error(`webhook answered ${res.status}`);
}

/** Posts events, then waits until every subscriber has every one (bounded). */
async function phase(port, clients, events, { concurrency, intervalMs }) {
  const state = new Map(); // event id -> { postedAt, received, lastAt }
  const deliveries = Array.from({ length: events }, () => sign(responseCompletedBody()));
  let delivered = 0;
  const onMessage = (data) => {
    const entry = state.get(eventIdOf(data));
    if (!entry) return;
    entry.received += 1;
    entry.lastAt = performance.now();
    delivered += 1;
  };
  for (const socket of clients) socket.on('message', onMessage);
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < deliveries.length) {
      const delivery = deliveries[next++];
      state.set(JSON.parse(delivery.body).id, {
        postedAt: performance.now(),
        received: 0,
        lastAt: 0,
      });
      await post(port, delivery);
      if (intervalMs) await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const expected = events * clients.length;
  const deadline = Date.now() + 30000;
  while (delivered < expected && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 10));
  const finished = Math.max(...[...state.values()].map((e) => e.lastAt));
  for (const socket of clients) socket.off('message', onMessage);
  const latencies = [...state.values()].map((e) => e.lastAt - e.postedAt).sort((a, b) => a - b);
  return {
    delivered,
    expected,
    messagesPerSec: delivered / ((finished - started) / 1000),
    p50Ms: latencies[Math.floor(latencies.length / 2)],
    p99Ms: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))],
  };
}

async function benchFanout({
  clients = 1000,
  burstEvents = 200,
  steadyEvents = 100,
  steadyIntervalMs = 20,
} = {}) {
  const results = {};
  for (const [key, file, subscribe] of [
    ['switchboard', join(__dirname, '..', 'dist', 'main.js'), true],
    ['bare', join(__dirname, 'servers', 'ws-bare.js'), false],
  ]) {
    const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-fanout-'));
    const { child, port } = await startProcess(file, {
      OPENAI_WEBHOOK_SECRET: SECRET,
      ADMIN_TOKEN: TOKEN,
      DATA_DIR: dataDir,
      PORT: '0',
      NODE_ENV: 'production',
      RULES_FILE: join(__dirname, '..', 'rules', 'example.yaml'),
    });
    try {
      const sockets = await subscribers(port, clients, () => undefined, subscribe);
      await phase(port, sockets, 20, { concurrency: 2 }); // warm-up
      const burst = await phase(port, sockets, burstEvents, { concurrency: 4 });
      const steady = await phase(port, sockets, steadyEvents, {
        concurrency: 1,
        intervalMs: steadyIntervalMs,
      });
      results[key] = { burst, steady };
      for (const socket of sockets) socket.terminate();
    } finally {
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  return results;
}

module.exports = { benchFanout };
