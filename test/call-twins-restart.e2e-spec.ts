import { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { FakeOpenAI } from './support/fake-openai';
import { deliverTo, startService } from './support/service-process';
import { TEST_SECRET } from './support/signing';
import { eventually } from './support/test-app';
import { liveAnnouncement, physicalCall, realtimeAnnouncement } from './support/twin-calls';

const TOKEN = 'twins-restart-token';

describe('a decision waiting for its twin when the process is killed', () => {
  let fake: FakeOpenAI;
  let dataDir: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    fake = await FakeOpenAI.start();
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-twins-restart-'));
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('goes on after the restart (nothing was sent): the twin that arrives then is used, one request in all', async () => {
    const rulesFile = join(dataDir, 'rules.yaml');
    // Written before Live existed: an accept is for Realtime, so a Live-first call waits.
    writeFileSync(
      rulesFile,
      stringify({ rules: [{ id: 'support', action: { accept: { model: 'gpt-realtime' } } }] }),
    );
    const env = {
      OPENAI_WEBHOOK_SECRET: TEST_SECRET,
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.baseURL,
      ADMIN_TOKEN: TOKEN,
      DATA_DIR: dataDir,
      RULES_FILE: rulesFile,
      TWIN_WAIT_MS: '5000',
      PORT: '0',
      HOST: '127.0.0.1',
      NODE_ENV: 'production',
    };
    const call = physicalCall();
    fake.calls.offer({ realtime: call.realtimeId, live: call.liveId });
    const readRecord = async (port: number, id: string) => {
      const response = await fetch(`http://127.0.0.1:${port}/calls/${id}`, {
        headers: { Authorization: `Bearer ${TOKEN}` },
      });
      return (await response.json()) as {
        status: string;
        surface?: string;
        surfaces: Record<string, { id: string }>;
      };
    };

    const first = await startService(env);
    children.push(first.child);
    expect(await deliverTo(first.port, liveAnnouncement(call))).toBe(200);
    await eventually(
      async () => expect((await readRecord(first.port, call.liveId)).status).toBe('waiting'),
      10_000,
    );
    first.child.kill('SIGKILL');
    await first.exited;
    expect(fake.requests).toHaveLength(0);

    const second = await startService(env);
    children.push(second.child);
    expect(await deliverTo(second.port, realtimeAnnouncement(call))).toBe(200);
    let record = await readRecord(second.port, call.liveId);
    await eventually(async () => {
      record = await readRecord(second.port, call.liveId);
      expect(record.status).toBe('completed');
    }, 15_000);
    // One request, on the surface the record names. Had the restart outlasted the window, that
    // is on_error on Live; within it (the usual case), the accept on Realtime.
    expect(fake.requests).toHaveLength(1);
    const sent = fake.requests[0].control!;
    expect(sent.surface).toBe(record.surface);
    expect(sent.id).toBe(record.surfaces[sent.surface].id);
    expect(Object.keys(record.surfaces).sort()).toEqual(['live', 'realtime']);
    expect(second.output()).toContain('resuming its decision after a restart');
  }, 60_000);
});
