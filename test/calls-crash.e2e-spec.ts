import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeOpenAI } from './support/fake-openai';
import { sampleEvent } from './support/sample-events';
import { signDelivery, TEST_SECRET } from './support/signing';
import { eventually } from './support/test-app';

const MAIN = join(__dirname, '..', 'dist', 'main.js');
const TOKEN = 'crash-admin-token';

function startService(env: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${output}`)), 15_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on http:\/\/localhost:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]) });
      }
    });
  });
}

describe('a call whose action was under way when the process was killed', () => {
  let fake: FakeOpenAI;
  let dataDir: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    fake = await FakeOpenAI.start();
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-calls-crash-'));
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is not sent again after the restart, and its record says the outcome is unknown', async () => {
    const env = {
      OPENAI_WEBHOOK_SECRET: TEST_SECRET,
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.baseURL,
      ADMIN_TOKEN: TOKEN,
      DATA_DIR: dataDir,
      PORT: '0',
      NODE_ENV: 'production',
    };
    const first = await startService(env);
    children.push(first.child);
    fake.reply('hang', 'hang', 'hang');
    const body = sampleEvent('realtime.call.incoming', {
      data: {
        call_id: 'rtc_crash',
        sip_headers: [
          { name: 'To', value: '<sip:+18005550100@sip.api.openai.com>' },
          { name: 'From', value: '<sip:+14155550123@pbx>' },
        ],
      },
    });
    const delivery = signDelivery(JSON.stringify(body));
    const acked = await fetch(`http://127.0.0.1:${first.port}/webhooks/openai`, {
      method: 'POST',
      headers: delivery.headers,
      body: delivery.body,
    });
    expect(acked.status).toBe(200);
    await fake.waitForRequests(1);
    first.child.kill('SIGKILL');
    await new Promise((resolve) =>
      first.child.exitCode === null && first.child.signalCode === null
        ? first.child.once('exit', resolve)
        : resolve(null),
    );

    const second = await startService(env);
    children.push(second.child);
    await eventually(async () => {
      const response = await fetch(`http://127.0.0.1:${second.port}/calls/rtc_crash`, {
        headers: { Authorization: `Bearer ${TOKEN}` },
      });
      const record = (await response.json()) as { status: string; openai: { error: string } };
      expect(record.status).toBe('failed');
      expect(record.openai.error).toContain('outcome unknown, not resent');
    }, 10_000);
    expect(fake.requests).toHaveLength(1);
  }, 40_000);
});
