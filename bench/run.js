// `npm run bench [-- webhooks|calls]`: every figure is measured in this run, on this machine.
// Webhook throughput is compared with baselines served in the same run; rule evaluation with
// the same rules evaluated one by one; call latency against its absolute aim (p99 < 10 ms).
const { benchVerify } = require('./verify');
const { benchServer } = require('./http');
const { benchRules } = require('./rules');
const { benchCallLatency } = require('./call-latency');
const { benchFanout } = require('./fanout');
const { benchSidebands } = require('./sidebands');
const { BENCH_DATABASE_URL, createSchema } = require('./postgres');
const { measureRoundTrips } = require('./pg-round-trips');
const { probeFsync } = require('./fsync-probe');

const SECONDS = Number(process.env.BENCH_SECONDS || 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 32);
// BENCH_SERVERS=a,b runs only those HTTP servers (for profiling one change quickly).
const onlyServers = process.env.BENCH_SERVERS ? process.env.BENCH_SERVERS.split(',') : undefined;

const fmt = (n, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Every HTTP server measured in this run, by key: ratios compare figures of the same run. */
const http = {};

// The plain event and the routed calls, as `webhooks` measures them (`calls` reuses them).
const PLAIN = ['a', 'Switchboard, production defaults', { service: {} }, 'response'];
const ROUTED = [
  'e',
  'Switchboard, calls routed to fake OpenAI',
  { service: {}, fakeOpenAI: true },
  'call',
];
const TWINS = [
  'f',
  'Switchboard, twins: 2 announcements per call',
  { service: {}, fakeOpenAI: true },
  'twins',
];

const ratio = (x, y) =>
  http[x] && http[y] ? fmt(http[x].requestsPerSec / http[y].requestsPerSec, 2) : '-';

/** Measures each server (unless this run has already), one at a time, and prints its line. */
async function runServers(servers) {
  for (const [key, name, server, kind] of servers) {
    if (onlyServers && !onlyServers.includes(key)) continue;
    if (http[key]) continue;
    const r = await benchServer(server, { seconds: SECONDS, connections: CONNECTIONS, kind });
    http[key] = r;
    const extra = [
      server.file ? '' : `, not fresh ${r.notFresh}`,
      r.calls !== undefined
        ? `, control requests ${r.controlRequests} for ${r.calls} answered calls`
        : '',
    ].join('');
    console.log(
      `  (${key})${key.length === 1 ? ' ' : ''} ${name.padEnd(44)} ${fmt(r.requestsPerSec).padStart(7)} req/s  ${fmt(r.cpuUsPerRequest).padStart(5)} µs CPU/req  p50 ${fmt(r.p50Ms, 1)} ms  p99 ${fmt(r.p99Ms, 1)} ms  (${r.total} requests, non-2xx ${r.non2xx}, errors ${r.errors}${extra})`,
    );
    if (r.non2xx > 0 || r.errors > 0 || r.notFresh > 0)
      throw new Error(
        `(${key}) answered non-2xx, failed or saw duplicates: the comparison would be meaningless`,
      );
    // One control request per call: at least one per answered call, at most one per call sent.
    if (r.calls !== undefined && (r.controlRequests < r.calls || r.controlRequests > r.callsIssued))
      throw new Error(
        `(${key}) sent ${r.controlRequests} control requests for ${r.calls} answered of ${r.callsIssued} sent calls`,
      );
  }
}

async function main() {
  const only = process.argv[2];
  if (only && !['webhooks', 'calls', 'stream', 'postgres', 'sidebands'].includes(only))
    throw new Error('usage: npm run bench [-- webhooks|calls|stream|postgres|sidebands]');
  console.log(
    `node ${process.version}, ${require('node:os').cpus().length} cores; ${SECONDS} s per server, ${CONNECTIONS} connections\n`,
  );

  if (!only || only === 'webhooks') await webhooks();
  if (!only || only === 'calls') await calls();
  if (!only || only === 'stream') await stream();
  if (only === 'postgres' || (!only && BENCH_DATABASE_URL)) await postgres();
  else if (!only)
    console.log('\nPostgreSQL: skipped (set BENCH_DATABASE_URL or TEST_DATABASE_URL)');
  if (!only || only === 'sidebands') await sidebands();
}

/**
 * The service on PostgreSQL (DATABASE_URL, a schema of its own per server) against the same
 * service on SQLite, in this run: one instance, two instances sharing the load, routed calls,
 * and the call latency; then the database round trips per delivery, counted.
 */
async function postgres() {
  if (!BENCH_DATABASE_URL) throw new Error('set BENCH_DATABASE_URL (or TEST_DATABASE_URL)');
  const where = new URL(BENCH_DATABASE_URL);
  console.log(
    `\nPostgreSQL at ${where.hostname}:${where.port || 5432}${where.pathname}, HTTP as above: (a) and (e) on SQLite (measured now unless this run has)`,
  );
  await runServers([
    PLAIN,
    ['g', 'on PostgreSQL, one instance', { service: {}, postgres: true }, 'response'],
    [
      'h',
      'on PostgreSQL, two instances (16 conn. each)',
      { service: {}, postgres: true, instances: 2 },
      'response',
    ],
    ROUTED,
    ['i', 'calls routed, on PostgreSQL', { service: {}, postgres: true, fakeOpenAI: true }, 'call'],
  ]);
  console.log(
    `\n  PostgreSQL/SQLite, one instance: g/a = ${ratio('g', 'a')} (aim >= 0.5)   two instances/one: h/g = ${ratio('h', 'g')}   routed calls: i/e = ${ratio('i', 'e')}`,
  );

  const rate = Number(process.env.BENCH_CALL_RATE || 200);
  console.log(
    `\nWebhook sent -> accept request at a fake OpenAI, ${rate} calls/s for ${SECONDS} s after a 2 s warm-up`,
  );
  const latency = [];
  for (const [name, postgres] of [
    ['Switchboard on SQLite', false],
    ['Switchboard on PostgreSQL', true],
  ]) {
    const schema = postgres ? await createSchema() : undefined;
    try {
      const r = await benchCallLatency({
        rate,
        seconds: SECONDS,
        env: schema ? { DATABASE_URL: schema.url } : {},
      });
      latency.push(r);
      console.log(
        `  ${name.padEnd(28)} ${r.accepted}/${r.total} accepted   p50 ${fmt(r.p50Ms, 2)} ms   p99 ${fmt(r.p99Ms, 2)} ms   max ${fmt(r.maxMs, 1)} ms`,
      );
      if (r.failed > 0 || r.accepted < r.total || r.duplicates > 0)
        throw new Error(`${name}: ${r.failed} failed, ${r.accepted} of ${r.total} accepted`);
    } finally {
      await schema?.drop();
    }
  }
  console.log(
    `\n  call p99 PostgreSQL/SQLite: ${fmt(latency[1].p99Ms / latency[0].p99Ms, 2)}x (aim <= 2x)`,
  );

  console.log('\nDatabase round trips per delivery (counted at a relay; 32 deliveries at a time)');
  for (const kind of ['response', 'call']) {
    const r = await measureRoundTrips({ kind });
    console.log(
      `  ${kind === 'call' ? 'ringing call, routed' : 'plain event (response.completed)'}`.padEnd(
        36,
      ) + ` ${fmt(r.perEvent, 2)} round trips per delivery (${r.roundTrips} for ${r.count})`,
    );
  }
}

async function sidebands() {
  const calls = Number(process.env.BENCH_SIDEBAND_CALLS || 1000);
  const seconds = Number(process.env.BENCH_SIDEBAND_SECONDS || 30);
  console.log(
    `\nAnswered calls with live sidebands: ${calls} Live calls at once against a fake OpenAI, each speaking (a transcript delta every 400 ms) and calling a tool once a minute, for ${seconds} s`,
  );
  const r = await benchSidebands({ calls, seconds });
  const normal = await benchSidebands({ calls, seconds, env: { STORE_SYNCHRONOUS: 'normal' } });
  const floor = await benchSidebands({ calls, seconds, target: 'floor' });
  console.log(
    `  ${r.sidebands}/${r.calls} sidebands open, ${fmt(r.deltas)} transcript deltas, ${r.toolCalls} function calls (${r.duplicates} answered twice)`,
  );
  console.log(
    `  memory: ${fmt(r.memoryPerCallKiB, 1)} KiB per call (RSS ${fmt(r.rssBeforeMiB)} MiB before, ${fmt(r.rssWithMiB)} MiB with the calls)`,
  );
  console.log(
    `  function call -> output: p50 ${fmt(r.p50Ms, 2)} ms, p99 ${fmt(r.p99Ms, 2)} ms, max ${fmt(r.maxMs, 1)} ms (aim: p99 under 20 ms plus the handler's own time; no handler here)`,
  );
  console.log(
    `  with STORE_SYNCHRONOUS=normal (no fsync per commit): p50 ${fmt(normal.p50Ms, 2)} ms, p99 ${fmt(normal.p99Ms, 2)} ms, ${fmt(normal.memoryPerCallKiB, 1)} KiB per call, CPU ${fmt(normal.cpuShare * 100, 1)}%`,
  );
  console.log(
    `  floor (a bare ws client answering at once): p50 ${fmt(floor.p50Ms, 2)} ms, p99 ${fmt(floor.p99Ms, 2)} ms; Switchboard p99 - floor p99 = ${fmt(r.p99Ms - floor.p99Ms, 2)} ms`,
  );
  console.log(
    `  CPU: ${fmt(r.cpuShare * 100, 1)}% of one core during the steady phase (floor ${fmt(floor.cpuShare * 100, 1)}%)`,
  );
  if (r.sidebands < r.calls || r.duplicates > 0)
    throw new Error(`${r.sidebands} of ${r.calls} sidebands, ${r.duplicates} outputs sent twice`);
}

async function stream() {
  const clients = 1000;
  console.log(
    `\nFan-out: ${clients} WebSocket subscribers on loopback, events posted through the webhook endpoint`,
  );
  const r = await benchFanout({ clients });
  const line = (name, x) =>
    `  ${name.padEnd(34)} ${fmt(x.burst.messagesPerSec).padStart(8)} msg/s delivered (burst)   steady 50 events/s: last subscriber p50 ${fmt(x.steady.p50Ms, 1)} ms, p99 ${fmt(x.steady.p99Ms, 1)} ms`;
  console.log(line('Switchboard (verify, store, stream)', r.switchboard));
  console.log(line('bare ws broadcast (the ceiling)', r.bare));
  for (const x of [r.switchboard, r.bare]) {
    for (const p of [x.burst, x.steady])
      if (p.delivered < p.expected)
        throw new Error(`only ${p.delivered} of ${p.expected} delivered`);
  }
  console.log(
    `  ratio ${fmt(r.switchboard.burst.messagesPerSec / r.bare.burst.messagesPerSec, 2)} of the bare rate (aim >= 0.5); p99 to all ${clients} (aim < 50 ms)`,
  );
}

async function webhooks() {
  console.log('Verify step alone (verify + JSON.parse of a realistic realtime.call.incoming body)');
  const verify = await benchVerify();
  for (const r of verify)
    console.log(
      `  ${r.name.padEnd(36)} ${fmt(r.nsPerOp / 1000, 2).padStart(8)} µs/op ${fmt(r.opsPerSec).padStart(10)} ops/s`,
    );
  const [ours, sdk, standard] = verify;
  console.log(
    `  ours vs SDK unwrap: ${fmt(sdk.nsPerOp / ours.nsPerOp, 1)}x faster; vs standardwebhooks: ${fmt(standard.nsPerOp / ours.nsPerOp, 1)}x faster (aim: 10x vs SDK)\n`,
  );

  // (a)-(d) receive response.completed, the high-volume event; (e) shows what a ringing call
  // costs on top (routing, call record, a control request, two lifecycle events). (a) and (e)
  // are the service as `npm run start:prod` runs it; (a1) and (a2) change one setting each.
  const servers = [
    PLAIN,
    [
      'a1',
      '(a) with STORE_SYNCHRONOUS=normal',
      { service: { STORE_SYNCHRONOUS: 'normal' } },
      'response',
    ],
    ['a2', '(a) with LOG_LEVEL=silent', { service: { LOG_LEVEL: 'silent' } }, 'response'],
    ['b', 'bare Express, read body + 200', { file: 'express-bare.js' }, 'response'],
    ['c', 'Nest + SDK unwrap + ValidationPipe', { file: 'nest-sdk.js' }, 'response'],
    ['d', 'bare Nest controller, read body + 200', { file: 'nest-bare.js' }, 'response'],
    ROUTED,
  ];
  console.log('HTTP on loopback, POST /webhooks/openai, each request a new signed delivery');
  console.log('(a)-(d): response.completed; (e): realtime.call.incoming with 8 SIP headers');
  console.log(
    '(a), (e): dist/main.js, NODE_ENV=production, durability full, log level info to a file',
  );
  await runServers(servers);
  console.log(
    `\n  a/b = ${ratio('a', 'b')} (aim >= 0.5)   a/d = ${ratio('a', 'd')} (aim >= 0.7)   a/c = ${ratio('a', 'c')} (aim >= 2)`,
  );
  console.log(
    `  durability: full/normal = ${ratio('a', 'a1')}   logging: info/silent = ${ratio('a', 'a2')}   routed calls per plain event: e/a = ${ratio('e', 'a')}`,
  );
}

async function calls() {
  console.log('\nRule evaluation per call (decide; the index serves equals/in conditions)');
  for (const r of benchRules()) {
    console.log(
      `  ${String(r.size).padStart(6)} rules: ${fmt(r.decideUs, 2).padStart(6)} µs indexed   ${fmt(r.linearUs, 1).padStart(9)} µs one by one (dry run)   ${fmt(r.withFactsUs, 1).padStart(5)} µs incl. reading the SIP headers`,
    );
  }
  console.log('  (aim: under 50 µs per call at 10,000 rules)');

  console.log(
    '\nRouted calls against plain events, HTTP as above: (a) and (e) as in `webhooks` (measured now unless this run has), (f) a call announced on both surfaces',
  );
  await runServers([
    PLAIN,
    ROUTED,
    TWINS,
    [
      'e1',
      '(e) with STORE_SYNCHRONOUS=normal',
      { service: { STORE_SYNCHRONOUS: 'normal' }, fakeOpenAI: true },
      'call',
    ],
  ]);
  const callsPerEvent = (key) =>
    http[key] && http.a
      ? fmt(http[key].requestsPerSec / (key === 'f' ? 2 : 1) / http.a.requestsPerSec, 2)
      : '-';
  console.log(
    `\n  routed calls per plain event: e/a = ${callsPerEvent('e')} (aim >= 0.7)   twins, calls per plain event: f/2/a = ${callsPerEvent('f')} (aim >= 0.35)`,
  );
  console.log(
    `  CPU of a routed call in plain events' CPU: ${http.e && http.a ? fmt(http.e.cpuUsPerRequest / http.a.cpuUsPerRequest, 2) : '-'}   calls without fsyncs: e1/e = ${ratio('e1', 'e')}`,
  );

  const rate = Number(process.env.BENCH_CALL_RATE || 200);
  console.log(
    `\nWebhook sent -> accept request at a fake OpenAI, ${rate} calls/s for ${SECONDS} s after a 2 s warm-up (each server in its own process)`,
  );
  const variants = [
    ['Switchboard (one announcement per call)', { target: 'switchboard' }],
    ['Switchboard, twins (both announcements at once)', { target: 'switchboard', twins: true }],
    ['floor: verify the signature, send the accept', { target: 'floor' }],
    // What the two fsyncs on a call's path (its event, then its record) cost in this run.
    [
      '(one announcement) with STORE_SYNCHRONOUS=normal',
      { target: 'switchboard', env: { STORE_SYNCHRONOUS: 'normal' } },
    ],
  ];
  const latency = {};
  // Every variant is measured, then the run fails if any one did not answer every call once.
  const failures = [];
  for (const [name, options] of variants) {
    const fsync = probeFsync();
    console.log(
      `  ${''.padEnd(48)} (fsync now: p50 ${fmt(fsync.p50Ms, 2)} ms, p99 ${fmt(fsync.p99Ms, 2)} ms)`,
    );
    const r = await benchCallLatency({ rate, seconds: SECONDS, ...options });
    latency[name] = r;
    console.log(
      `  ${name.padEnd(48)} ${r.accepted}/${r.total} accepted   p50 ${fmt(r.p50Ms, 2)} ms   p99 ${fmt(r.p99Ms, 2)} ms   max ${fmt(r.maxMs, 1)} ms`,
    );
    if (r.failed > 0 || r.accepted < r.total || r.duplicates > 0)
      failures.push(
        `${name}: ${r.failed} failed, ${r.accepted} of ${r.total} accepted, ${r.duplicates} accepted twice`,
      );
  }
  const [single, twins, floor, normal] = variants.map(([name]) => latency[name]);
  console.log(
    `\n  p99 against the floor: ${fmt(single.p99Ms / floor.p99Ms, 2)}x, twins ${fmt(twins.p99Ms / floor.p99Ms, 2)}x (aim <= 1.5x)   absolute: p99 ${fmt(single.p99Ms, 2)} ms (aim: under 10 ms)`,
  );
  console.log(
    `  without the fsyncs (STORE_SYNCHRONOUS=normal): p99 ${fmt(normal.p99Ms / floor.p99Ms, 2)}x the floor`,
  );
  if (failures.length > 0) throw new Error(failures.join('\n'));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
