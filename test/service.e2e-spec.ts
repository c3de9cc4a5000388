import { spawn, spawnSync, SpawnSyncReturns } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { damageMiddlePages, readOnlyDir } from './support/file-system-faults';
import { sampleEvent } from './support/sample-events';
import { deliverTo, startService } from './support/service-process';
import { signDelivery, TEST_SECRET } from './support/signing';
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
      'a custom header whose name has a space',
      { OPENAI_API_KEY: 'sk-test', OPENAI_CUSTOM_HEADERS: 'X-Good: 1\nX Bad: 2' },
      'OPENAI_CUSTOM_HEADERS names a header that cannot be sent: "x bad" is not a header name',
    ],
    [
      'an organization id with a control character',
      { OPENAI_API_KEY: 'sk-test', OPENAI_ORG_ID: 'org-1\u0007x' },
      'OPENAI_ORG_ID: the value of openai-organization holds a character a header cannot carry',
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
        expect(output).toMatch(/PORT=\d+ DATA_DIR=\S+ npm run demo/);
        expect(output).toContain('admin API and event stream on');
      }, 15_000);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    const port = /PORT=(\d+) DATA_DIR=\S+ npm run demo/.exec(output)![1];
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

describe('the service refuses to start in one line naming the cause (no stack)', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-start-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const productionVars = (extra: Record<string, string> = {}) => ({
    NODE_ENV: 'production',
    OPENAI_WEBHOOK_SECRET: TEST_SECRET,
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    ...extra,
  });
  const production = (extra: Record<string, string> = {}) => serviceEnv(productionVars(extra));
  const start = (env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, [MAIN], { env, encoding: 'utf8', timeout: 15_000 });

  /** Exit 1 and exactly one line on stderr, saying why and naming each of `names`. */
  function expectOneLine(result: SpawnSyncReturns<string>, ...names: string[]): void {
    const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
    expect(lines).toEqual([expect.stringMatching(/^switchboard: cannot start: /)]);
    for (const name of names) expect(lines[0]).toContain(name);
    expect(result.status).toBe(1);
  }

  /** A store the service wrote itself: about 5 MB of events, then a clean shutdown. */
  async function storeWrittenByTheService(): Promise<string> {
    const service = await startService(productionVars());
    try {
      const padding = 'x'.repeat(16 * 1024);
      const senders = Array.from({ length: 8 }, async () => {
        for (let i = 0; i < 40; i++) {
          const delivery = signDelivery(
            JSON.stringify(sampleEvent('test.bulk', { data: { padding } })),
          );
          expect(await deliverTo(service.port, delivery)).toBe(200);
        }
      });
      await Promise.all(senders);
    } finally {
      service.child.kill('SIGTERM');
    }
    expect(await service.exited).toEqual({ code: 0, signal: null });
    const file = join(dataDir, 'switchboard.db');
    expect(existsSync(`${file}-wal`)).toBe(false); // checkpointed: everything is in the file
    return file;
  }

  it.each(['switchboard.db', 'calls.db'])('a %s that is not a database', (name) => {
    const file = join(dataDir, name);
    writeFileSync(
      file,
      'this is not a SQLite database, just some text that was put here\n'.repeat(50),
    );
    expectOneLine(start(production()), file, 'is not a usable SQLite database', 'SQLITE_NOTADB');
  });

  it('a database file written by the service, then truncated', async () => {
    const file = await storeWrittenByTheService();
    truncateSync(file, 1024 * 1024 + 1000);
    expectOneLine(start(production()), file, 'is not a usable SQLite database', 'SQLITE_CORRUPT');
  }, 60_000);

  it('a database file written by the service, with damaged pages in the middle', async () => {
    const file = await storeWrittenByTheService();
    damageMiddlePages(file, 16);
    expectOneLine(start(production()), file, 'is corrupt (PRAGMA quick_check: ');
  }, 60_000);

  it('a DATA_DIR that cannot be created, in production and in development', () => {
    const blocker = join(dataDir, 'a-file');
    writeFileSync(blocker, '');
    const inside = join(blocker, 'data');
    expectOneLine(start(production({ DATA_DIR: inside })), inside, 'ENOTDIR');
    expectOneLine(
      start(serviceEnv({ DATA_DIR: inside, PORT: '0' })),
      `DATA_DIR ${inside} is not usable`,
      'ENOTDIR',
    );
  });

  const readOnly = readOnlyDir();
  readOnly?.release(); // probed only: each test makes its own
  if (!readOnly) console.warn('skipped: no read-only directory can be made here');
  (readOnly ? it : it.skip)('a read-only DATA_DIR, in production and in development', () => {
    const dir = readOnlyDir()!;
    try {
      expectOneLine(
        start(production({ DATA_DIR: dir.dir })),
        join(dir.dir, 'switchboard.db'),
        'cannot be written',
      );
      expectOneLine(
        start(serviceEnv({ DATA_DIR: dir.dir, PORT: '0' })),
        `DATA_DIR ${dir.dir} is not usable`,
      );
    } finally {
      dir.release();
    }
  });

  it('a HOST that does not resolve', () => {
    expectOneLine(
      start(production({ HOST: 'no-such-host.invalid' })),
      'HOST "no-such-host.invalid" does not resolve',
    );
  });

  it('a port already in use', async () => {
    const other: Server = createServer();
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const port = (other.address() as { port: number }).port;
    try {
      expectOneLine(
        start(production({ PORT: String(port) })),
        `port ${port} on 127.0.0.1 is already in use (EADDRINUSE)`,
      );
    } finally {
      other.close();
    }
  });

  it('a RULES_FILE that is a directory, or that holds several problems', () => {
    const folder = join(dataDir, 'rules.yaml');
    mkdirSync(folder);
    expectOneLine(
      start(production({ RULES_FILE: folder })),
      `the routing rules are invalid: ${folder}: cannot read: EISDIR`,
    );
    const file = join(dataDir, 'broken.yaml');
    writeFileSync(file, 'version: 1\nrules:\n  - id: a\n    when: { bogus: 1 }\n    then: {}\n');
    expectOneLine(
      start(production({ RULES_FILE: file })),
      'the routing rules are invalid',
      `${file}:`,
    );
  });
});
