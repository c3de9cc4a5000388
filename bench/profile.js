// `npm run bench:profile [-- response|call] [seconds]`: where the webhook pipeline's time goes.
// Runs the service as the benchmark does (production defaults, log to a file) under node's
// --cpu-prof, loads it with autocannon, drains it with SIGTERM (which writes the profile), and
// sums the samples' self time by what the code belongs to.
const autocannon = require('autocannon');
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const { sign, BODIES } = require('./deliveries');
const { startProcess } = require('./http');
const { startService } = require('./service');

const CATEGORIES = [
  ['garbage collection', (f) => f.functionName === '(garbage collector)'],
  ['SQLite (better-sqlite3 and the stores)', (f) => /better-sqlite3|\/store\//.test(f.url)],
  [
    'validation (class-validator, class-transformer)',
    (f) => /class-(validator|transformer)/.test(f.url),
  ],
  ['logging (pino)', (f) => /pino|sonic-boom|thread-stream/.test(f.url)],
  [
    'Express and Nest routing',
    (f) =>
      /node_modules\/(express|router|@nestjs|body-parser|raw-body|finalhandler|send|path-to-regexp|on-finished|qs|type-is|content-type|statuses)/.test(
        f.url,
      ),
  ],
  ['signature (node:crypto)', (f) => /crypto/.test(f.url)],
  [
    'Node HTTP, sockets and streams',
    (f) =>
      /^node:(internal\/)?(http|_http|net|stream|streams|internal\/streams|timers|events|buffer)|^node:internal\/(http|net|stream|timers|process|event|url|util|async_hooks|streams|buffer)/.test(
        f.url,
      ),
  ],
  ['Switchboard (other)', (f) => /\/dist\//.test(f.url)],
  ['other JavaScript', (f) => f.url !== ''],
  ['native and V8 (no JavaScript frame)', () => true],
];

function summarise(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // A native frame (no url) is charged to the nearest JavaScript frame that called it, so
  // SQLite's C code counts as the store that called it.
  const owner = (node) => {
    let current = node;
    while (
      current &&
      current.callFrame.url === '' &&
      !current.callFrame.functionName.startsWith('(')
    ) {
      const up = parent.get(current.id);
      if (up === undefined) break;
      current = byId.get(up);
    }
    return current ?? node;
  };
  const self = new Map();
  const counts = new Map();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  let busy = 0;
  const byCategory = new Map();
  const byFunction = new Map();
  for (const [id, hits] of counts) {
    const node = byId.get(id);
    if (node.callFrame.functionName === '(idle)') continue;
    busy += hits;
    const frame = owner(node).callFrame;
    const category = CATEGORIES.find(([, test]) => test(frame))[0];
    byCategory.set(category, (byCategory.get(category) ?? 0) + hits);
    const name = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/dist\//, 'dist/')}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + hits);
    self.set(id, hits);
  }
  return { busy, byCategory, byFunction, total: profile.samples.length };
}

async function main() {
  const kind = process.argv[2] ?? 'response';
  const seconds = Number(process.argv[3] ?? 10);
  if (!BODIES[kind]) throw new Error('usage: npm run bench:profile [-- response|call] [seconds]');
  // A ringing call is routed and its control request sent to a fake OpenAI, as in the benchmark.
  const fake = kind === 'call' ? await startProcess('fake-openai.js') : undefined;
  const control = fake
    ? { OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: `http://127.0.0.1:${fake.port}/v1` }
    : {};
  const service = await startService(control, {
    nodeArgs: ['--cpu-prof', '--cpu-prof-dir=prof'],
  });
  try {
    const run = (duration) =>
      autocannon({
        url: `http://127.0.0.1:${service.port}/webhooks/openai`,
        method: 'POST',
        connections: 32,
        duration,
        requests: [
          {
            setupRequest: (request) => {
              const delivery = sign(BODIES[kind]());
              return { ...request, headers: delivery.headers, body: delivery.body };
            },
          },
        ],
      });
    await run(2);
    const result = await run(seconds);
    await service.stop({ keep: true, signal: 'SIGTERM' });
    const dir = join(__dirname, '..', 'prof');
    // The main thread's profile: CPU.<date>.<time>.<pid>.<thread 0>.<n>.cpuprofile (worker
    // threads, such as the start-up integrity check, write their own).
    const mainThread = new RegExp(
      `^CPU\\.\\d+\\.\\d+\\.${service.child.pid}\\.0\\.\\d+\\.cpuprofile$`,
    );
    const file = join(
      dir,
      readdirSync(dir).find((f) => mainThread.test(f)) ??
        (() => {
          throw new Error(`no main-thread profile of pid ${service.child.pid} in ${dir}`);
        })(),
    );
    const { busy, byCategory, byFunction, total } = summarise(
      JSON.parse(readFileSync(file, 'utf8')),
    );
    console.log(
      `${kind} deliveries: ${Math.round(result.requests.average)} req/s over ${seconds} s; the service's CPU was busy in ${Math.round((100 * busy) / total)} % of ${total} samples (warm-up and start-up included)\n`,
    );
    console.log('Share of busy samples by what the code belongs to:');
    for (const [name, hits] of [...byCategory].sort((a, b) => b[1] - a[1]))
      console.log(`  ${((100 * hits) / busy).toFixed(1).padStart(5)} %  ${name}`);
    console.log('\nTop functions (self time, native code charged to its JavaScript caller):');
    for (const [name, hits] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 20))
      console.log(`  ${((100 * hits) / busy).toFixed(1).padStart(5)} %  ${name}`);
    console.log(`\nprofile: ${file} (open it in Chrome DevTools, Performance tab)`);
  } finally {
    await service.stop();
    await fake?.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
