// Loopback HTTP load with autocannon against one server process at a time.
const autocannon = require('autocannon');
const { spawn } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { sign, BODIES, twinsSource } = require('./deliveries');
const { createSchema } = require('./postgres');
const { startService } = require('./service');

/** A baseline or helper server from bench/servers, announcing `LISTENING <port>`. */
function startProcess(file, env = {}) {
  const child = spawn(process.execPath, [join(__dirname, 'servers', file)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start in 20 s`)), 20000);
    child.stdout.on('data', (chunk) => {
      const match = /LISTENING (\d+)/.exec(chunk.toString());
      if (match) {
        clearTimeout(timer);
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        resolve({
          port: Number(match[1]),
          child,
          pid: child.pid,
          stop: async () => {
            if (child.exitCode !== null) return;
            const exited = new Promise((r) => child.once('exit', r));
            child.kill('SIGKILL');
            await exited;
          },
        });
      }
    });
    child.on('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
  });
}

/**
 * Every request is signed when autocannon asks for it, so every one is a new delivery however
 * fast the server is (a pool made in advance wraps around on fast servers and turns into
 * duplicates). Switchboard's replies are checked: any that is not `"duplicate":false` counts.
 */
async function load(port, { seconds, connections, kind, checkReplies }) {
  // `twins`: two announcements per call (Realtime, then Live), each a request of its own.
  const makeBody = kind === 'twins' ? twinsSource() : BODIES[kind];
  let notFresh = 0;
  let issued = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/webhooks/openai`,
    method: 'POST',
    connections,
    duration: seconds,
    requests: [
      {
        setupRequest: (request) => {
          issued += 1;
          const delivery = sign(makeBody());
          return { ...request, headers: delivery.headers, body: delivery.body };
        },
        ...(checkReplies
          ? {
              onResponse: (status, body) => {
                if (status === 200 && !body.includes('"duplicate":false')) notFresh += 1;
              },
            }
          : {}),
      },
    ],
  });
  return {
    requestsPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    total: result.requests.total,
    notFresh,
    // Requests still in flight when the time is up are sent but not counted in `total`.
    issued,
    // Calls begun: one per request, or one per two with twins.
    callsIssued: makeBody.calls ? makeBody.calls() : issued,
  };
}

/**
 * CPU time (user + system, ms) a process has used so far, from /proc (Linux): the server's own
 * cost per request. Other load on a shared machine moves it too (by up to 2.5 times in the
 * README's runs), but less than the rate: compare it between servers of the same run.
 */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime: fields 14 and 15 of stat(5), counted from the state (field 3).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}
const CLOCK_TICKS = 100;

/**
 * One server, measured after a warm-up. `server` is either `{ file }` (a baseline in
 * bench/servers) or `{ service: env }` (Switchboard's real entry point with these settings on
 * top of the production defaults). `fakeOpenAI: true` starts a fake call-control API in its own
 * process and points the service at it; the result then says how many control requests it got.
 */
async function benchServer(server, options) {
  const fake = server.fakeOpenAI ? await startProcess('fake-openai.js') : undefined;
  // `postgres: true`: the service on a PostgreSQL schema of its own (DATABASE_URL);
  // `instances: n`: n services on it, the load's connections shared between them.
  const schema = server.postgres ? await createSchema() : undefined;
  const env = {
    ...server.service,
    ...(schema ? { DATABASE_URL: schema.url } : {}),
    ...(fake
      ? {
          OPENAI_API_KEY: 'sk-bench',
          OPENAI_BASE_URL: `http://127.0.0.1:${fake.port}/v1`,
        }
      : {}),
  };
  const targets = server.file
    ? [await startProcess(server.file)]
    : await Promise.all(Array.from({ length: server.instances ?? 1 }, () => startService(env)));
  const checkReplies = !server.file;
  const loadAll = async (opts) => {
    const connections = Math.max(1, Math.round(opts.connections / targets.length));
    const results = await Promise.all(
      targets.map((target) => load(target.port, { ...opts, connections })),
    );
    if (results.length === 1) return results[0];
    // Rates add up; of the latencies, the worse instance's.
    const sum = (key) => results.reduce((total, r) => total + r[key], 0);
    const worst = (key) => Math.max(...results.map((r) => r[key]));
    return {
      ...results[0],
      requestsPerSec: sum('requestsPerSec'),
      p50Ms: worst('p50Ms'),
      p99Ms: worst('p99Ms'),
      non2xx: sum('non2xx'),
      errors: sum('errors'),
      total: sum('total'),
      notFresh: sum('notFresh'),
      issued: sum('issued'),
      callsIssued: sum('callsIssued'),
    };
  };
  try {
    const warmup = await loadAll({ ...options, seconds: 2, checkReplies });
    // CPU of every instance's process, per request answered by any of them.
    const cpuAll = () => targets.reduce((total, target) => total + cpuMs(target.child.pid), 0);
    const cpuBefore = cpuAll();
    const result = await loadAll({ ...options, checkReplies });
    result.cpuUsPerRequest = ((cpuAll() - cpuBefore) * 1000) / result.total;
    result.notFresh += warmup.notFresh;
    if (fake) {
      // Control requests go out after the 2xx: give the last ones a moment to arrive, then
      // compare with every call sent, warm-up included.
      const perCall = options.kind === 'twins' ? 2 : 1;
      const calls = Math.floor((warmup.total + result.total) / perCall);
      const deadline = Date.now() + 10000;
      let stats = await controlStats(fake.port);
      while (sent(stats) < calls && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        stats = await controlStats(fake.port);
      }
      result.calls = calls;
      result.callsIssued = warmup.callsIssued + result.callsIssued;
      result.controlRequests = sent(stats);
    }
    return result;
  } finally {
    await Promise.all(targets.map((target) => target.stop()));
    if (fake) await fake.stop();
    await schema?.drop();
  }
}

async function controlStats(port) {
  const res = await fetch(`http://127.0.0.1:${port}/stats`);
  return res.json();
}

const sent = (stats) => stats.accept + stats.reject + stats.refer;

module.exports = { benchServer, startProcess };
