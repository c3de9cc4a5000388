// Database round trips per delivery of a service on PostgreSQL, counted (not estimated) by a
// relay between the service and the database: every query the service awaits ends in one
// ReadyForQuery from the server. Deliveries are sent `concurrency` at a time, as a load would.
const { BODIES, sign } = require('./deliveries');
const { countingRelay, createSchema } = require('./postgres');
const { startProcess } = require('./http');
const { startService } = require('./service');

async function send(port, kind, count, concurrency) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next += 1;
      const delivery = sign(BODIES[kind]());
      const res = await fetch(`http://127.0.0.1:${port}/webhooks/openai`, {
        method: 'POST',
        headers: delivery.headers,
        body: delivery.body,
      });
      await res.text();
      if (res.status !== 200) throw new Error(`delivery answered ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Waits until no round trip has been made for 500 ms (the handlers and their records done). */
async function settled(relay) {
  const deadline = Date.now() + 15000;
  let last = -1;
  while (relay.roundTrips !== last && Date.now() < deadline) {
    last = relay.roundTrips;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** `kind`: `response` (a plain event) or `call` (a ringing call routed to a fake OpenAI). */
async function measureRoundTrips({ kind, count = 2000, concurrency = 32 }) {
  const schema = await createSchema();
  const relay = await countingRelay(schema.url);
  const fake = kind === 'call' ? await startProcess('fake-openai.js') : undefined;
  const service = await startService({
    DATABASE_URL: relay.url,
    ...(fake
      ? { OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: `http://127.0.0.1:${fake.port}/v1` }
      : {}),
  });
  try {
    await send(service.port, kind, 200, concurrency); // warm-up
    await settled(relay);
    relay.reset();
    await send(service.port, kind, count, concurrency);
    await settled(relay);
    return {
      kind,
      count,
      concurrency,
      roundTrips: relay.roundTrips,
      perEvent: relay.roundTrips / count,
    };
  } finally {
    await service.stop();
    if (fake) await fake.stop();
    await relay.stop();
    await schema.drop();
  }
}

module.exports = { measureRoundTrips };
