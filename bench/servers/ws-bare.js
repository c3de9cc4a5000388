// The fan-out ceiling: a bare `ws` server that broadcasts each posted body to every client,
// in the same message shape as Switchboard's stream, with no verification and no store.
const { createServer } = require('node:http');
const { WebSocketServer } = require('ws');
const { announce } = require('./listen');

let seq = 0;
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    seq += 1;
    const message = `{"type":"event","seq":${seq},"source":"openai","event":${Buffer.concat(chunks).toString()}}`;
    for (const client of wss.clients) client.send(message);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
  });
});
const wss = new WebSocketServer({ server, path: '/events' });
server.listen(0, '127.0.0.1', () => announce(server));
