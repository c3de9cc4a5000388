// Fan-out: many WebSocket subscribers on loopback, events posted through the webhook endpoint.
// Switchboard (verify, store, then stream) against a bare `ws` broadcast of the same messages.
const { WebSocket: WsClient } = require('ws');
const { sign, responseCompletedBody } = require('./deliveries');
const { startProcess } = require('./http');
const { startService } = require('./service');

const TOKEN = 'bench-stream-token';

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
  for (const [key, subscribe] of [
    ['switchboard', true],
    ['bare', false],
  ]) {
    const server = subscribe
      ? await startService({ ADMIN_TOKEN: TOKEN })
      : await startProcess('ws-bare.js');
    try {
      const sockets = await subscribers(server.port, clients, () => undefined, subscribe);
      await phase(server.port, sockets, 20, { concurrency: 2 }); // warm-up
      const burst = await phase(server.port, sockets, burstEvents, { concurrency: 4 });
      const steady = await phase(server.port, sockets, steadyEvents, {
        concurrency: 1,
        intervalMs: steadyIntervalMs,
      });
      results[key] = { burst, steady };
      for (const socket of sockets) socket.terminate();
    } finally {
      await server.stop();
    }
  }
  return results;
}

module.exports = { benchFanout };
