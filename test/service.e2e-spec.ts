import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

  it('in development, generates a secret, says how to send a signed sample, and accepts it', async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: serviceEnv({ DATA_DIR: dataDir, PORT: '0' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      const port = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no start-up line in 15 s:\n${output}`)),
          15_000,
        );
        child.stdout!.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const match = /PORT=(\d+) npm run demo/.exec(output);
          if (match && output.includes('NOT sent to OpenAI')) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        });
      });
      expect(output).toMatch(/generated a development secret: whsec_[A-Za-z0-9+/]+=*/);

      const demo = spawnSync(process.execPath, [DEMO], {
        env: serviceEnv({ DATA_DIR: dataDir, PORT: port }),
        encoding: 'utf8',
        timeout: 15_000,
      });
      expect(demo.stdout).toMatch(/^200 .*"received":true/);
      expect(demo.status).toBe(0);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
