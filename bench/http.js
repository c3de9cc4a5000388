// Loopback HTTP load with autocannon against one server process at a time.
const autocannon = require('autocannon');
const { spawn } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { makeDeliveries } = require('./deliveries');

function startServer(file, dataDir) {
  const child = spawn(process.execPath, [join(__dirname, 'servers', file)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_DATA_DIR: dataDir },
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start in 20 s`)), 20000);
    child.stdout.on('data', (chunk) => {
      const match = /LISTENING (\d+)/.exec(chunk.toString());
      if (match) {
        clearTimeout(timer);
        // From here on the child's log is drained unread: the load generator's CPU is for load.
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        resolve({ child, port: Number(match[1]) });
      }
    });
    child.on('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
  });
}

/** Every request carries its own freshly signed delivery, so none is a duplicate. */
async function load(port, { seconds, connections, kind }) {
  const deliveries = makeDeliveries(Math.ceil(seconds * 12000) + 5000, kind);
  let next = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/webhooks/openai`,
    method: 'POST',
    connections,
    duration: seconds,
    requests: [
      {
        setupRequest: (request) => {
          const delivery = deliveries[next++ % deliveries.length];
          return { ...request, headers: delivery.headers, body: delivery.body };
        },
      },
    ],
  });
  return {
    requestsPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    total: result.requests.total,
  };
}

async function benchServer(file, options) {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-bench-'));
  const { child, port } = await startServer(file, dataDir);
  try {
    await load(port, { ...options, seconds: 2 }); // warm-up: JIT, SQLite pages, sockets
    return await load(port, options);
  } finally {
    child.kill('SIGKILL');
    await new Promise((resolve) =>
      child.exitCode === null ? child.once('exit', resolve) : resolve(),
    );
    rmSync(dataDir, { recursive: true, force: true });
  }
}

module.exports = { benchServer };
