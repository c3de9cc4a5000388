// `node bench/pg-drivers.js`: the two well-kept PostgreSQL drivers, `pg` (node-postgres) and
// `postgres` (postgres.js), on what the PostgreSQL stores do, against the same server in the
// same run. Both must be installed: the project depends on one (see the README), so install the
// other for the run with `npm install --no-save postgres` (or `pg`).
//   DATABASE_URL   default postgres://postgres@127.0.0.1:5432/test
//   BENCH_ROUNDS   default 2000 (sequential round trips per measurement)
// Each measurement runs in a schema of its own, dropped at the end; each driver gets the same
// work in the same order, twice, alternating, and the better of its two runs is reported.
const { randomUUID } = require('node:crypto');

const URL_ = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const ROUNDS = Number(process.env.BENCH_ROUNDS || 2000);
const POOL = 8;
const BATCH = 64;

function load(name) {
  try {
    return require(name);
  } catch {
    console.error(`${name} is not installed: npm install --no-save ${name}`);
    process.exit(1);
  }
}

/** The same operations on top of each driver. */
const drivers = {
  pg: () => {
    const { Pool, Client } = load('pg');
    const pool = new Pool({ connectionString: URL_, max: POOL });
    return {
      query: (text, params) => pool.query(text, params).then((r) => r.rows),
      transaction: async (statements) => {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          for (const [text, params] of statements) await client.query(text, params);
          await client.query('COMMIT');
        } finally {
          client.release();
        }
      },
      listen: async (channel, onMessage) => {
        const client = new Client({ connectionString: URL_ });
        await client.connect();
        client.on('notification', (n) => onMessage(n.payload));
        await client.query(`LISTEN ${channel}`);
        return () => client.end();
      },
      end: () => pool.end(),
    };
  },
  postgres: () => {
    const postgres = load('postgres');
    const sql = postgres(URL_, { max: POOL, onnotice: () => undefined });
    return {
      query: (text, params) => sql.unsafe(text, params ?? []).then((rows) => [...rows]),
      // postgres.js pipelines the statements of a transaction: it sends them without waiting.
      transaction: (statements) =>
        sql.begin((tx) => statements.map(([text, params]) => tx.unsafe(text, params ?? []))),
      listen: async (channel, onMessage) => {
        const { unlisten } = await sql.listen(channel, onMessage);
        return unlisten;
      },
      end: () => sql.end(),
    };
  },
};

async function measure(name, work) {
  const driver = drivers[name]();
  const schema = `bench_${name}_${randomUUID().slice(0, 8)}`;
  await driver.query(`CREATE SCHEMA ${schema}`);
  try {
    await driver.query(
      `CREATE TABLE ${schema}.events (seq bigint PRIMARY KEY, webhook_id text UNIQUE NOT NULL, payload text NOT NULL)`,
    );
    await driver.query(
      `CREATE TABLE ${schema}.counter (id int PRIMARY KEY, value bigint NOT NULL)`,
    );
    await driver.query(`INSERT INTO ${schema}.counter VALUES (1, 0)`);
    return await work(driver, schema);
  } finally {
    await driver.query(`DROP SCHEMA ${schema} CASCADE`);
    await driver.end();
  }
}

const payload = JSON.stringify({ data: 'x'.repeat(900) });
let next = 0;

/** One INSERT per round trip, awaited: the latency of a statement. */
async function sequentialInserts(driver, schema) {
  const started = performance.now();
  for (let i = 0; i < ROUNDS; i++) {
    next += 1;
    await driver.query(
      `INSERT INTO ${schema}.events VALUES ($1, $2, $3) ON CONFLICT (webhook_id) DO NOTHING RETURNING seq`,
      [next, `wh_${next}`, payload],
    );
  }
  return (ROUNDS / (performance.now() - started)) * 1000;
}

/** POOL x 4 INSERTs in flight at once over the pool: throughput of single statements. */
async function concurrentInserts(driver, schema) {
  const started = performance.now();
  let done = 0;
  const worker = async () => {
    while (done < ROUNDS) {
      done += 1;
      next += 1;
      await driver.query(
        `INSERT INTO ${schema}.events VALUES ($1, $2, $3) ON CONFLICT (webhook_id) DO NOTHING RETURNING seq`,
        [next, `wh_${next}`, payload],
      );
    }
  };
  await Promise.all(Array.from({ length: POOL * 4 }, worker));
  return (ROUNDS / (performance.now() - started)) * 1000;
}

/** The event store's group commit: lock the counter, insert a batch with unnest, bump, commit. */
async function batchTransactions(driver, schema) {
  const batches = Math.max(1, Math.floor(ROUNDS / 8));
  const started = performance.now();
  for (let b = 0; b < batches; b++) {
    const ids = Array.from({ length: BATCH }, () => `wh_${(next += 1)}`);
    await driver.transaction([
      [`SELECT value FROM ${schema}.counter WHERE id = 1 FOR UPDATE`],
      [
        `INSERT INTO ${schema}.events SELECT (SELECT value FROM ${schema}.counter) + n, id, $2
         FROM unnest($1::text[]) WITH ORDINALITY AS t(id, n) ON CONFLICT (webhook_id) DO NOTHING`,
        [ids, payload],
      ],
      [`UPDATE ${schema}.counter SET value = value + $1 WHERE id = 1`, [BATCH]],
    ]);
  }
  return ((batches * BATCH) / (performance.now() - started)) * 1000;
}

/** NOTIFY on one connection, heard on another: the cross-instance wake-up, one at a time. */
async function notifyLatency(driver, schema) {
  const channel = `${schema}_wake`;
  let waiting;
  const stop = await driver.listen(channel, () => waiting?.());
  const times = [];
  const rounds = Math.max(50, Math.floor(ROUNDS / 4));
  for (let i = 0; i < rounds; i++) {
    const heard = new Promise((resolve) => (waiting = resolve));
    const started = performance.now();
    await driver.query(`SELECT pg_notify($1, $2)`, [channel, String(i)]);
    await heard;
    times.push(performance.now() - started);
  }
  await stop();
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length * 0.5)];
}

const MEASURES = [
  ['sequential INSERTs', sequentialInserts, 'rows/s'],
  ['32 concurrent INSERTs over 8 connections', concurrentInserts, 'rows/s'],
  [`group-commit transactions (${BATCH} rows each)`, batchTransactions, 'rows/s'],
  ['NOTIFY to LISTEN, p50', notifyLatency, 'ms'],
];

async function main() {
  console.log(`node ${process.version}, ${require('node:os').cpus().length} cores; ${URL_}`);
  for (const [label, work, unit] of MEASURES) {
    const best = { pg: undefined, postgres: undefined };
    for (let round = 0; round < 2; round++) {
      for (const name of round === 0 ? ['pg', 'postgres'] : ['postgres', 'pg']) {
        const value = await measure(name, work);
        const better = unit === 'ms' ? (a, b) => a < b : (a, b) => a > b;
        if (best[name] === undefined || better(value, best[name])) best[name] = value;
      }
    }
    const digits = unit === 'ms' ? 3 : 0;
    const ratio = unit === 'ms' ? best.pg / best.postgres : best.postgres / best.pg;
    console.log(
      `${label.padEnd(46)} pg ${best.pg.toFixed(digits).padStart(8)} ${unit}   postgres ${best.postgres.toFixed(digits).padStart(8)} ${unit}   postgres/pg ${ratio.toFixed(2)}x`,
    );
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
