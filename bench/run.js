// `npm run bench`: every figure is measured in this run, on this machine, and every aim is a
// ratio against a baseline measured in the same run.
const { benchVerify } = require('./verify');
const { benchServer } = require('./http');

const SECONDS = Number(process.env.BENCH_SECONDS || 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 32);

const fmt = (n, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main() {
  console.log(
    `node ${process.version}, ${require('node:os').cpus().length} cores; ${SECONDS} s per server, ${CONNECTIONS} connections\n`,
  );

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

  const servers = [
    ['a', 'Switchboard full pipeline', 'switchboard.js'],
    ['b', 'bare Express, read body + 200', 'express-bare.js'],
    ['c', 'Nest + SDK unwrap + ValidationPipe', 'nest-sdk.js'],
    ['d', 'bare Nest controller, read body + 200', 'nest-bare.js'],
  ];
  const http = {};
  console.log('HTTP on loopback, POST /webhooks/openai, each request a new signed delivery');
  for (const [key, name, file] of servers) {
    const r = await benchServer(file, { seconds: SECONDS, connections: CONNECTIONS });
    http[key] = r;
    console.log(
      `  (${key}) ${name.padEnd(36)} ${fmt(r.requestsPerSec).padStart(7)} req/s  p50 ${fmt(r.p50Ms, 1)} ms  p99 ${fmt(r.p99Ms, 1)} ms  (${r.total} requests, non-2xx ${r.non2xx}, errors ${r.errors})`,
    );
    if (r.non2xx > 0 || r.errors > 0)
      throw new Error(`(${key}) answered non-2xx or failed: the comparison would be meaningless`);
  }
  const ab = http.a.requestsPerSec / http.b.requestsPerSec;
  const ac = http.a.requestsPerSec / http.c.requestsPerSec;
  const ad = http.a.requestsPerSec / http.d.requestsPerSec;
  console.log(
    `\n  a/b = ${fmt(ab, 2)} (aim >= 0.5)   a/c = ${fmt(ac, 2)} (aim >= 2)   a/d = ${fmt(ad, 2)} (share of Nest's own floor)`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
