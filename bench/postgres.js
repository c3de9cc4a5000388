// PostgreSQL for the benchmark: a schema of its own per server measured (created, then dropped),
// and a relay that counts the database round trips a service makes.
const { randomBytes } = require('node:crypto');
const { connect, createServer } = require('node:net');
const { Client } = require('pg');

/** BENCH_DATABASE_URL, else TEST_DATABASE_URL: the PostgreSQL the benchmark may use. */
const BENCH_DATABASE_URL =
  process.env.BENCH_DATABASE_URL?.trim() || process.env.TEST_DATABASE_URL?.trim() || undefined;

/** A fresh schema; `url` has it as the connection's search_path. */
async function createSchema(url = BENCH_DATABASE_URL) {
  if (!url) throw new Error('set BENCH_DATABASE_URL (or TEST_DATABASE_URL) to a PostgreSQL URL');
  const name = `sb_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${name}`);
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-c search_path=${name}`);
  return {
    url: parsed.toString(),
    async drop() {
      try {
        await admin.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}

/**
 * A TCP relay to PostgreSQL that counts ReadyForQuery messages ('Z') from the server: one per
 * query the client awaited, simple or extended (Parse/Bind/Execute/Sync go out in one write and
 * end in one 'Z'). That is the number of round trips the service made.
 */
async function countingRelay(url) {
  const target = new URL(url);
  let roundTrips = 0;
  const sockets = new Set();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    let pending = Buffer.alloc(0);
    upstream.on('data', (chunk) => {
      client.write(chunk);
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let at = 0;
      while (pending.length - at >= 5) {
        const length = pending.readUInt32BE(at + 1);
        if (pending.length - at < 1 + length) break;
        if (pending[at] === 0x5a) roundTrips += 1;
        at += 1 + length;
      }
      pending = pending.subarray(at);
    });
    client.on('data', (chunk) => upstream.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const relayed = new URL(url);
  relayed.hostname = '127.0.0.1';
  relayed.port = String(server.address().port);
  return {
    url: relayed.toString(),
    get roundTrips() {
      return roundTrips;
    },
    reset() {
      roundTrips = 0;
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

module.exports = { BENCH_DATABASE_URL, createSchema, countingRelay };
