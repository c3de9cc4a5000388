import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleEvent } from './support/sample-events';
import { deliverTo } from './support/service-process';
import { signDelivery, TEST_SECRET } from './support/signing';
import { eventually } from './support/test-app';

const HOST_APP = join(__dirname, 'fixtures', 'host-app.js');

/** The fixture host app in a child process, with the chosen logger; everything it prints. */
async function startHostApp(logger: 'nest' | 'pino', dataDir: string) {
  const child = spawn(process.execPath, [HOST_APP], {
    env: {
      ...process.env,
      NO_COLOR: '1',
      HOST_LOGGER: logger,
      DATA_DIR: dataDir,
      OPENAI_WEBHOOK_SECRET: TEST_SECRET,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let port = 0;
  await eventually(() => {
    const match = /LISTENING (\d+)/.exec(output);
    expect(match).not.toBeNull();
    port = Number(match![1]);
  }, 15_000);
  return { child, port, output: () => output };
}

describe("the library's log lines in a host app", () => {
  let dataDir: string;
  let child: ChildProcess | undefined;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-host-logs-'));
  });
  afterEach(() => {
    child?.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function deliverAndFail(port: number) {
    const accepted = signDelivery(JSON.stringify(sampleEvent('batch.failed', { id: 'evt_log_1' })));
    expect(await deliverTo(port, accepted)).toBe(200);
    const refused = { ...accepted, body: accepted.body.replace('evt_log_1', 'evt_log_2') };
    expect(await deliverTo(port, refused)).toBe(401);
  }

  it("read as one line each under Nest's default logger, with the facts inline", async () => {
    const app = await startHostApp('nest', dataDir);
    child = app.child;
    await deliverAndFail(app.port);
    await eventually(() => {
      expect(app.output()).toContain('handler failed, retrying');
      expect(app.output()).toContain('webhook refused');
    });
    const lines = app.output().split('\n');
    const line = (text: string) => lines.find((candidate) => candidate.includes(text)) ?? '';
    expect(line('webhook accepted')).toMatch(
      /\[Webhooks\] webhook accepted type=batch\.failed seq=1 event_id=evt_log_1 request_id=\S+ webhook_id=wh_\w+/,
    );
    expect(line('webhook refused')).toMatch(
      /webhook refused reason=signature_mismatch request_id=/,
    );
    expect(line('handler failed, retrying')).toMatch(
      /handler=FlakyHandler\.handle event_id=evt_log_1 seq=1 attempt=1\/2 retry_in_ms=\d+ error="Error: downstream unavailable"/,
    );
    // No multi-line object dumps anywhere.
    expect(app.output()).not.toMatch(/Object\(\d+\)|^\s*[{}]\s*$|^\s+\w+: /m);
  });

  it('are structured fields under pino', async () => {
    const app = await startHostApp('pino', dataDir);
    child = app.child;
    await deliverAndFail(app.port);
    await eventually(() => {
      expect(app.output()).toContain('handler failed, retrying');
      expect(app.output()).toContain('webhook refused');
    });
    const records = app
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.find((r) => r.msg === 'webhook accepted')).toMatchObject({
      context: 'Webhooks',
      type: 'batch.failed',
      seq: 1,
      event_id: 'evt_log_1',
      webhook_id: expect.stringMatching(/^wh_/),
      request_id: expect.any(String),
    });
    expect(records.find((r) => r.msg === 'webhook refused')).toMatchObject({
      reason: 'signature_mismatch',
    });
    expect(records.find((r) => r.msg === 'handler failed, retrying')).toMatchObject({
      handler: 'FlakyHandler.handle',
      event_id: 'evt_log_1',
      seq: 1,
      attempt: '1/2',
      error: 'Error: downstream unavailable',
    });
  });
});
