#!/usr/bin/env node
// Prints Switchboard's live event stream in a terminal, one line per event.
//   npm run tail -- --types 'call.*' [--call-ids rtc_1,rtc_2] [--since 120] [--json]
//                   [--url ws://localhost:3000/events] [--token $ADMIN_TOKEN]
// Reconnects after a drop, resuming from the last sequence number it printed.
const { WebSocket: WsClient } = require('ws');
const { DEV_ADMIN_TOKEN_FILE, readDevFile, shownPath } = require('./dev-files');

const USAGE = `Usage: npm run tail [-- options]

Prints Switchboard's live event stream, one line per event, and reconnects after a drop.
Start the service first, in another terminal: npm start

  --types 'call.*,batch.*'   event types to follow: exact, prefix.* or * (default *)
  --call-ids rtc_1,rtc_2     only events about these calls
  --since 120                first catch up from this sequence number
  --json                     print each message as JSON
  --url <url>                default ws://localhost:$PORT/events (PORT default 3000)
  --token <token>            default $ADMIN_TOKEN, else $STREAM_TOKEN, else the development
                             token npm start saved in ${shownPath(DEV_ADMIN_TOKEN_FILE)}
  --once                     exit at the first disconnect
  --help                     print this text

A dry run (no OPENAI_API_KEY: decided and recorded, not sent) shows as "(dry run)".`;

function parseArgs(argv) {
  const options = {
    url: process.env.SWITCHBOARD_URL || `ws://localhost:${process.env.PORT || 3000}/events`,
    token: process.env.ADMIN_TOKEN || process.env.STREAM_TOKEN || readDevFile(DEV_ADMIN_TOKEN_FILE),
    types: '*',
    callIds: undefined,
    since: undefined,
    json: false,
    once: false,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${name} needs a value`);
      return argv[++i];
    };
    if (name === '--help' || name === '-h') options.help = true;
    else if (name === '--url') options.url = value();
    else if (name === '--token') options.token = value();
    else if (name === '--types') options.types = value();
    else if (name === '--call-ids') options.callIds = value();
    else if (name === '--since') options.since = Number(value());
    else if (name === '--json') options.json = true;
    else if (name === '--once')
      options.once = true; // exit on the first disconnect (scripts, tests)
    else throw new Error(`unknown option ${name} (see npm run tail -- --help)`);
  }
  if (options.help) return options;
  if (!options.token) {
    throw new Error(
      `no token: set ADMIN_TOKEN (or STREAM_TOKEN), or pass --token; in development, npm start saves one in ${shownPath(DEV_ADMIN_TOKEN_FILE)}`,
    );
  }
  return options;
}

/** What the line says beyond the type and the call: the gist of each call event. */
function detailOf(type, data) {
  switch (type) {
    case 'call.routed':
      return ` rule=${data.rule ?? '(default)'} action=${data.action?.type}`;
    case 'call.answered':
      return ` on ${data.surface} sideband=${data.sideband}`;
    case 'call.transcript':
      return ` ${data.speaker}: ${JSON.stringify(String(data.text ?? '').slice(0, 120))}`;
    case 'call.tool_called':
      return ` ${data.name} ${data.outcome} ${data.duration_ms} ms`;
    case 'call.dtmf':
      return ` digits=${data.digits}`;
    case 'call.transferred':
      return ` to ${data.target_uri} by ${data.by}`;
    case 'call.ended':
      return ` ${data.reason}${data.inferred ? ' (inferred)' : ''} after ${Math.round((data.duration_ms ?? 0) / 1000)} s`;
    default:
      return '';
  }
}

function describe(message) {
  const event = message.event;
  const data = event.data || {};
  const subject = data.call_id || data.id || '';
  const extra = detailOf(event.type, data);
  // Decided and recorded but not sent to OpenAI (no API key): never to be read as a real one.
  const dry = data.dry_run === true ? ' (dry run)' : '';
  const when = new Date((event.created_at || 0) * 1000).toISOString().slice(11, 19);
  return `#${message.seq} ${when} ${event.type} ${subject}${extra}${dry}`;
}

function run(options) {
  let lastSeq = options.since;
  const connect = () => {
    const socket = new WsClient(options.url, {
      headers: { Authorization: `Bearer ${options.token}` },
    });
    socket.on('open', () => {
      socket.send(
        JSON.stringify({
          op: 'subscribe',
          types: options.types.split(',').filter(Boolean),
          ...(options.callIds ? { call_ids: options.callIds.split(',').filter(Boolean) } : {}),
          ...(lastSeq !== undefined ? { since: lastSeq } : {}),
        }),
      );
    });
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if (message.type === 'event') {
        lastSeq = message.seq;
        console.log(options.json ? JSON.stringify(message) : describe(message));
      } else if (message.type === 'error') console.error(`switchboard: ${message.message}`);
    });
    socket.on('unexpected-response', (_req, res) => {
      console.error(`switchboard: the stream refused the connection (HTTP ${res.statusCode})`);
      process.exit(1);
    });
    socket.on('close', (code, reason) => {
      console.error(`switchboard: disconnected (${code}${reason.length ? ` ${reason}` : ''})`);
      if (options.once) process.exit(0);
      setTimeout(connect, 1000);
    });
    socket.on('error', () => undefined);
  };
  connect();
}

try {
  const options = parseArgs(process.argv.slice(2));
  if (options.help) console.log(USAGE);
  else run(options);
} catch (error) {
  console.error(`switchboard tail: ${error.message}`);
  process.exit(1);
}
