import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KNOWN_WEBHOOK_EVENT_TYPES } from '../src/events/webhook-event-types';
import { TEST_SECRET } from './support/signing';
import { createTestApp, TestApp } from './support/test-app';

const DEMO = join(__dirname, '..', 'scripts', 'send-sample-event.js');

/**
 * `npm run demo -- <args>` with only the environment given (none of the caller's tokens). Not
 * spawnSync: the app it talks to runs in this process and must go on answering.
 */
function demo(args: string[], env: Record<string, string>) {
  const {
    OPENAI_WEBHOOK_SECRET: _s,
    ADMIN_TOKEN: _a,
    DATA_DIR: _d,
    PORT: _p,
    ...rest
  } = process.env;
  const child = spawn(process.execPath, [DEMO, ...args], {
    env: { ...rest, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 15_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (status) => resolve({ status, stdout, stderr })),
  );
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('npm run demo', () => {
  let t: TestApp | undefined;
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-demo-'));
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints its usage, with every event type, for --help', async () => {
    const result = await demo(['--help'], { DATA_DIR: dataDir });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Usage: npm run demo/);
    for (const type of KNOWN_WEBHOOK_EVENT_TYPES) expect(result.stdout).toContain(type);
    expect(result.stdout).toContain('--allow-unknown');
    expect(result.stderr).toBe('');
  });

  it('refuses a mistyped event type, listing the valid ones, and sends nothing', async () => {
    t = await createTestApp({ listen: true });
    const result = await demo(['batch.complete'], {
      OPENAI_WEBHOOK_SECRET: TEST_SECRET,
      PORT: String(t.port),
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('unknown event type "batch.complete"');
    expect(result.stderr).toContain('  batch.completed\n');
    expect(result.stderr).toContain('npm run demo -- batch.complete --allow-unknown');
    expect(await t.store.list({ limit: 10 })).toEqual([]);
  });

  it('sends an unknown type when asked to, as a type OpenAI added later', async () => {
    t = await createTestApp({ listen: true });
    const result = await demo(['batch.paused', '--allow-unknown'], {
      OPENAI_WEBHOOK_SECRET: TEST_SECRET,
      PORT: String(t.port),
    });
    expect(result.stdout).toMatch(/^200 .*"type":"batch\.paused"/);
    expect(result.status).toBe(0);
    expect((await t.store.list({ limit: 10 })).map((event) => event.type)).toEqual([
      'batch.paused',
    ]);
  });

  it('says what to do with a fresh DATA_DIR (no development secret yet), not an ENOENT stack', async () => {
    const result = await demo([], { DATA_DIR: dataDir });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `no signing secret yet: ${join(dataDir, 'dev-webhook-secret')}`,
    );
    expect(result.stderr).toContain('npm start, in another terminal');
    expect(result.stderr).toContain('OPENAI_WEBHOOK_SECRET');
    expect(result.stderr).not.toMatch(/ENOENT|\n\s+at /);
  });

  it('says to start the service when nothing answers', async () => {
    writeFileSync(join(dataDir, 'dev-webhook-secret'), `${TEST_SECRET}\n`);
    const result = await demo([], { DATA_DIR: dataDir, PORT: String(await closedPort()) });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/could not reach Switchboard on port \d+ \(ECONNREFUSED\)/);
    expect(result.stderr).toContain('Start it with npm start in another terminal');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
