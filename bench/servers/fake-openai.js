// OpenAI's call control, faked in its own process for the benchmark: every accept, reject,
// refer and hangup answers an empty 200 (as OpenAI does) and is counted; GET /stats reports
// the counts, so the benchmark can check that each routed call sent exactly one request.
// The sideband WebSockets of answered calls (Realtime `/v1/realtime?call_id=`, Live
// `/v1/live/sessions/{id}/attach`) are accepted and held, silent, and counted too, so that
// answered calls cost the service what they cost against OpenAI.
const { createServer } = require('node:http');
const { WebSocketServer } = require('ws');
const { announce } = require('./listen');

const counts = { accept: 0, reject: 0, refer: 0, hangup: 0, other: 0, sidebands: 0 };
const CONTROL = /^\/v1\/(?:realtime\/calls|live\/sessions)\/[^/]+\/(accept|reject|refer|hangup)$/;
const SIDEBAND = /^\/v1\/(?:realtime\?call_id=[^&]+|live\/sessions\/[^/]+\/attach)$/;

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(counts));
    return;
  }
  req.resume();
  req.on('end', () => {
    const match = CONTROL.exec(req.url ?? '');
    counts[match ? match[1] : 'other'] += 1;
    res.writeHead(200).end();
  });
});
const sidebands = new WebSocketServer({ noServer: true });
server.on('upgrade', (req, socket, head) => {
  if (!SIDEBAND.test(req.url ?? '')) return socket.destroy();
  sidebands.handleUpgrade(req, socket, head, () => (counts.sidebands += 1));
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => announce(server));
