import { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeOpenAI } from './support/fake-openai';
import { deliverTo, ringingCall, startService } from './support/service-process';
import { TEST_SECRET } from './support/signing';
import { eventually } from './support/test-app';

const TOKEN = 'crash-admin-token';

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
      HOST: '127.0.0.1',
      NODE_ENV: 'production',
    };
    const first = await startService(env);
    children.push(first.child);
    fake.reply('hang', 'hang', 'hang');
    expect(await deliverTo(first.port, ringingCall('rtc_crash'))).toBe(200);
    await fake.waitForRequests(1);
    first.child.kill('SIGKILL');
    await first.exited;

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
