// The floor of the sideband benchmark: what answering a function call costs with nothing but a
// WebSocket client. Opens CALLS sidebands to the fake (FAKE_URL), as Switchboard would after
// answering them, parses every message, and answers each function call at once.
const { WebSocket: Client } = require('ws');

const base = process.env.FAKE_URL.replace(/^http/, 'ws');
const calls = Number(process.env.CALLS);
let open = 0;
for (let n = 0; n < calls; n++) {
  const ws = new Client(`${base}/v1/live/sessions/live_bench_${n}/attach`, {
    headers: { Authorization: 'Bearer sk-bench' },
  });
  ws.on('open', () => {
    if (++open === calls) process.stdout.write('LISTENING 0\n');
  });
  ws.on('message', (data) => {
    const event = JSON.parse(String(data));
    const item = event.type === 'response.event' ? event.event?.item : undefined;
    if (item?.type !== 'function_call') return;
    ws.send(
      JSON.stringify({
        type: 'response.item.create',
        item: { type: 'function_call_output', call_id: item.call_id, output: '{}' },
      }),
    );
    ws.send(JSON.stringify({ type: 'response.create' }));
  });
}
