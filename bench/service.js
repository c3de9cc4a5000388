// Starts Switchboard as `npm run start:prod` runs it: the real entry point (dist/main.js) with
// NODE_ENV=production and every other setting at its default unless the caller overrides it.
// Its log goes to a file, a real sink that costs the service what a log collector would, while
// the load generator spends none of its CPU reading it.
const { spawn } = require('node:child_process');
const { mkdtempSync, openSync, closeSync, readFileSync, rmSync } = require('node:fs');
const { createServer } = require('node:net');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { SECRET } = require('./deliveries');

const MAIN = join(__dirname, '..', 'dist', 'main.js');

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitReady(port, child, logFile) {
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`service exited with ${child.exitCode}: ${tail(logFile)}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`service not ready in 30 s: ${tail(logFile)}`);
}

function tail(file) {
  try {
    return readFileSync(file, 'utf8').slice(-800);
  } catch {
    return '(no log)';
  }
}

/**
 * @param env settings on top of the production defaults (OPENAI_WEBHOOK_SECRET is the
 *   benchmark's, DATA_DIR a fresh temporary folder, PORT a free one).
 * @param nodeArgs extra arguments for node itself (e.g. --cpu-prof).
 */
async function startService(env = {}, { nodeArgs = [], name = 'switchboard' } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), `${name}-bench-`));
  const logFile = join(dataDir, 'service.log');
  const port = await freePort();
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...nodeArgs, MAIN], {
    cwd: join(__dirname, '..'),
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      OPENAI_WEBHOOK_SECRET: SECRET,
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  await waitReady(port, child, logFile);
  return {
    port,
    dataDir,
    logFile,
    child,
    /** SIGTERM (the drain writes a CPU profile, if asked for), then removes the data dir. */
    async stop({ keep = false, signal = 'SIGKILL' } = {}) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill(signal);
        await exited;
      }
      if (!keep) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

module.exports = { startService, freePort };
