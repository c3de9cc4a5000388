// OpenAI's call control, faked in its own process for the benchmark: every accept, reject,
// refer and hangup answers an empty 200 (as OpenAI does) and is counted; GET /stats reports
// the counts, so the benchmark can check that each routed call sent exactly one request.
const { createServer } = require('node:http');
const { announce } = require('./listen');

const counts = { accept: 0, reject: 0, refer: 0, hangup: 0, other: 0 };
const CONTROL = /^\/v1\/(?:realtime\/calls|live\/sessions)\/[^/]+\/(accept|reject|refer|hangup)$/;

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
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => announce(server));
