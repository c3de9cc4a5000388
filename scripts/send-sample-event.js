#!/usr/bin/env node
// Sends one correctly signed sample event to a running Switchboard, as OpenAI would.
// Usage: npm run demo [-- <event type>] [--allow-unknown]   (npm run demo -- --help)
const { randomUUID } = require('node:crypto');
const { signDelivery } = require('./sign-delivery');
const { DEV_ADMIN_TOKEN_FILE, DEV_SECRET_FILE, readDevFile, shownPath } = require('./dev-files');

const DEFAULT_TYPE = 'realtime.call.incoming';

/** The types the service knows, from its build (npm start builds it). */
function knownTypes() {
  try {
    return require('../dist/events/webhook-event-types').KNOWN_WEBHOOK_EVENT_TYPES;
  } catch {
    return undefined;
  }
}

function usage(types) {
  return [
    'Usage: npm run demo [-- <event type> [--allow-unknown]]',
    '',
    'Sends one correctly signed sample event to a running Switchboard, as OpenAI would.',
    'Start the service first, in another terminal: npm start',
    '',
    `  <event type>      one of OpenAI's webhook event types (default ${DEFAULT_TYPE}):`,
    ...(types
      ? types.map((type) => `                      ${type}`)
      : ['                      (the list needs a build: npm run build)']),
    '  --allow-unknown   send a type Switchboard does not know (it is stored and acknowledged,',
    '                    as a type OpenAI added later would be)',
    '  --help            print this text',
    '',
    'Environment: PORT (default 3000); OPENAI_WEBHOOK_SECRET, else the development secret',
    `that npm start saved in ${shownPath(DEV_SECRET_FILE)} (DATA_DIR, default ./data).`,
  ].join('\n');
}

function parseArgs(argv) {
  const options = { type: undefined, allowUnknown: false, help: false };
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h') options.help = true;
    else if (arg === '--allow-unknown') options.allowUnknown = true;
    else if (arg.startsWith('-'))
      throw new Error(`unknown option ${arg} (see npm run demo -- --help)`);
    else if (options.type)
      throw new Error(`one event type at a time (got ${options.type} and ${arg})`);
    else options.type = arg;
  }
  options.type ??= DEFAULT_TYPE;
  return options;
}

function checkType(type, allowUnknown) {
  const types = knownTypes();
  if (allowUnknown || !types || types.includes(type)) return;
  throw new Error(
    [
      `unknown event type "${type}". Known types:`,
      ...types.map((known) => `  ${known}`),
      `To send it anyway, as a type OpenAI added later: npm run demo -- ${type} --allow-unknown`,
    ].join('\n'),
  );
}

function signingSecret() {
  const secret = process.env.OPENAI_WEBHOOK_SECRET || readDevFile(DEV_SECRET_FILE);
  if (!secret) {
    throw new Error(
      `no signing secret yet: ${shownPath(DEV_SECRET_FILE)} does not exist. Start the service ` +
        'first (npm start, in another terminal; in development it generates the secret there), ' +
        'or set OPENAI_WEBHOOK_SECRET to the secret the service was started with.',
    );
  }
  return secret.split(',')[0].trim();
}

function sampleBody(type) {
  const hex = () => randomUUID().replace(/-/g, '');
  const sipHeaders = [
    { name: 'From', value: '"Alice" <sip:+14155550123@pbx.example.com;user=phone>;tag=9fx' },
    { name: 'To', value: '<sip:+18005550100@sip.api.openai.com>' },
    { name: 'Call-ID', value: `${randomUUID()}@pbx.example.com` },
  ];
  const calls = {
    'realtime.call.incoming': () => ({ call_id: `rtc_${hex()}`, sip_headers: sipHeaders }),
    'live.transport.incoming': () => ({
      type: 'sip',
      session_id: `live_${hex()}`,
      sip_headers: sipHeaders,
    }),
    'live.call.incoming': () => ({ session_id: `live_${hex()}`, sip_headers: sipHeaders }),
  };
  return {
    id: `evt_${hex()}`,
    object: 'event',
    created_at: Math.floor(Date.now() / 1000),
    type,
    data: calls[type] ? calls[type]() : { id: `obj_${hex()}` },
  };
}

/** After a ringing call: how the rules routed it, read back from the call record. */
async function describeCall(base, token, callId) {
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline) {
    const res = await fetch(`${base}/calls/${callId}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    if (res.ok) {
      const record = await res.json();
      if (record.status !== 'acting' && record.status !== 'waiting') {
        const rule = record.decision.rule ?? `(${record.decision.route})`;
        const dry = record.status === 'dry_run' ? ' (dry run: not sent to OpenAI)' : '';
        // A Realtime call reads as it always has; another surface is named.
        const surface =
          record.surface && record.surface !== 'realtime' ? ` surface=${record.surface}` : '';
        return `routed: rule=${rule} action=${record.decision.action.type}${surface} status=${record.status}${dry}`;
      }
    } else if (res.status !== 404) {
      return undefined;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return undefined;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.help) {
    console.log(usage(knownTypes()));
    return 0;
  }
  checkType(options.type, options.allowUnknown);
  const secret = signingSecret();
  const port = process.env.PORT || 3000;
  const base = `http://127.0.0.1:${port}`;
  const event = sampleBody(options.type);
  const body = JSON.stringify(event);
  let res;
  try {
    res = await fetch(`${base}/webhooks/openai`, {
      method: 'POST',
      headers: signDelivery(secret, body).headers,
      body,
    });
  } catch (error) {
    throw new Error(
      `could not reach Switchboard on port ${port} (${error.cause?.code ?? error.message}): ` +
        'is it running? Start it with npm start in another terminal.',
    );
  }
  console.log(`${res.status} ${await res.text()}`);
  if (!res.ok) return 1;
  const token = process.env.ADMIN_TOKEN || readDevFile(DEV_ADMIN_TOKEN_FILE);
  if (!token) return 0;
  const callId = event.data.call_id ?? event.data.session_id;
  if (callId) {
    const routed = await describeCall(base, token, callId).catch(() => undefined);
    if (routed) console.log(routed);
  }
  const tokenShown = process.env.ADMIN_TOKEN
    ? '$ADMIN_TOKEN'
    : `$(cat ${shownPath(DEV_ADMIN_TOKEN_FILE)})`;
  console.log(
    `see it: curl -H "Authorization: Bearer ${tokenShown}" localhost:${port}/events/${event.id}`,
  );
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error) => {
    console.error(`switchboard demo: ${error.message}`);
    process.exitCode = 1;
  },
);
