import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './support/test-app';

const ROOT = join(__dirname, '..');
const MAIN = join(ROOT, 'dist', 'main.js');
const DEMO = join(ROOT, 'scripts', 'send-sample-event.js');

/** The service as `npm start` runs it, with a clean environment of our choosing. */
function serviceEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const {
    OPENAI_WEBHOOK_SECRET: _s,
    OPENAI_API_KEY: _k,
    ADMIN_TOKEN: _a,
    NODE_ENV: _n,
    ...rest
  } = process.env;
  return { ...rest, NO_COLOR: '1', ...extra };
}

describe('the service (dist/main.js)', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-service-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it.each([
    [
      'production without a signing secret',
      { NODE_ENV: 'production' },
      'OPENAI_WEBHOOK_SECRET is missing',
    ],
    [
      'an unusable signing secret',
      { OPENAI_WEBHOOK_SECRET: 'secret123' },
      'OPENAI_WEBHOOK_SECRET is not usable',
    ],
    ['an unknown NODE_ENV', { NODE_ENV: 'staging' }, 'NODE_ENV must be one of'],
    ['a negative body limit', { MAX_BODY_BYTES: '-5' }, 'MAX_BODY_BYTES must be a whole number'],
    [
      'an unknown log level',
      { LOG_LEVEL: 'loud' },
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    ],
    [
      'a shutdown bound of zero',
      { SHUTDOWN_TIMEOUT_MS: '0' },
      'SHUTDOWN_TIMEOUT_MS must be between 1000',
    ],
    [
      'a LOG_REDACT path pino cannot read',
      { LOG_REDACT: 'req.headers["x-api-key' },
      'LOG_REDACT holds a path pino cannot redact',
    ],
    [
      'a rules file that does not exist',
      { RULES_FILE: '/nonexistent/rules.yaml' },
      'the routing rules are invalid',
    ],
  ])('refuses to start with %s, naming the variable', (_case, env, message) => {
    const result = spawnSync(process.execPath, [MAIN], {
      env: serviceEnv({ DATA_DIR: dataDir, PORT: '0', ...env }),
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(message);
  });

  /** `npm start` in development on `dataDir`, once its start-up lines are all out. */
  async function startDevelopment() {
    const child = spawn(process.execPath, [MAIN], {
      env: serviceEnv({ DATA_DIR: dataDir, PORT: '0' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      await eventually(() => {
        expect(output).toMatch(/PORT=\d+ npm run demo/);
        expect(output).toContain('admin API and event stream on');
      }, 15_000);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    const port = /PORT=(\d+) npm run demo/.exec(output)![1];
    const stop = async () => {
      child.kill('SIGTERM');
      await exited;
    };
    return { port, output: () => output, stop };
  }

  it('in development, generates a secret and an admin token, says how to use them, and the demo works at once', async () => {
    const service = await startDevelopment();
    try {
      const output = service.output();
      expect(output).toMatch(/generated a development secret: whsec_[A-Za-z0-9+/]+=*/);
      expect(output).toContain('npm run demo (in a second terminal)');
      const token = readFileSync(join(dataDir, 'dev-admin-token'), 'utf8').trim();
      expect(output).toContain(
        `generated a development admin token: ${token} (saved in ${join(dataDir, 'dev-admin-token')}`,
      );

      const demo = spawnSync(process.execPath, [DEMO], {
        env: serviceEnv({ DATA_DIR: dataDir, PORT: service.port }),
        encoding: 'utf8',
        timeout: 15_000,
      });
      expect(demo.stdout).toMatch(/^200 .*"received":true/);
      // The demo read the admin token from DATA_DIR and shows what became of the call.
      expect(demo.stdout).toMatch(
        /^routed: rule=\S+ action=\w+ status=dry_run \(dry run: not sent to OpenAI\)$/m,
      );
      expect(demo.stdout).toMatch(
        /^see it: curl -H "Authorization: Bearer \$\(cat .*dev-admin-token\)"/m,
      );
      expect(demo.status).toBe(0);

      const calls = await fetch(`http://127.0.0.1:${service.port}/calls`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(calls.status).toBe(200);
      expect(((await calls.json()) as { calls: unknown[] }).calls).toHaveLength(1);
    } finally {
      await service.stop();
    }
  });

  it('on a restart, says it reuses the saved development secret and token, not that it generated them', async () => {
    const first = await startDevelopment();
    await first.stop();
    const second = await startDevelopment();
    try {
      const secret = readFileSync(join(dataDir, 'dev-webhook-secret'), 'utf8').trim();
      const token = readFileSync(join(dataDir, 'dev-admin-token'), 'utf8').trim();
      expect(second.output()).toContain(
        `reusing the development secret saved in ${join(dataDir, 'dev-webhook-secret')}: ${secret}`,
      );
      expect(second.output()).toContain(
        `reusing the development admin token saved in ${join(dataDir, 'dev-admin-token')}: ${token}`,
      );
      expect(second.output()).not.toContain('generated a development');
    } finally {
      await second.stop();
    }
  });
});
