import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppModule } from '../src/app.module';
import { CALL_STORE } from '../src/calls/store/call-store';
import { SqliteCallStore } from '../src/calls/store/sqlite-call-store';
import { loadConfig } from '../src/config/switchboard.config';
import { EVENT_STORE } from '../src/webhooks/store/event-store';
import { SqliteEventStore } from '../src/webhooks/store/sqlite-event-store';
import { FakeOpenAI } from './support/fake-openai';
import { sampleEvent } from './support/sample-events';
import { deliverTo, ringingCall, ServiceProcess, startService } from './support/service-process';
import { signDelivery, TEST_SECRET } from './support/signing';

describe('STORE_SYNCHRONOUS is in force on the connection of each store', () => {
  let dir: string;
  let app: INestApplication | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-durability-'));
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['unset (the default)', 'full', undefined],
    ['full', 'full', 'full'],
    ['normal', 'normal', 'normal'],
  ])('%s: the event store and the call store both report %s', async (_case, expected, value) => {
    // The service's own composition, from the environment as `npm start` reads it.
    const config = loadConfig({
      NODE_ENV: 'test',
      DATA_DIR: dir,
      OPENAI_WEBHOOK_SECRET: TEST_SECRET,
      LOG_LEVEL: 'silent',
      ...(value ? { STORE_SYNCHRONOUS: value } : {}),
    });
    const moduleRef = await Test.createTestingModule({
      imports: [AppModule.forConfig(config)],
    }).compile();
    app = moduleRef.createNestApplication({ bodyParser: false, logger: false });
    await app.init();
    // Each store's own durability: `full` when it syncs its log before a commit is answered (the
    // strace test below shows it does), otherwise SQLite's setting on the store's connection.
    expect(app.get<SqliteEventStore>(EVENT_STORE).synchronousMode()).toBe(expected);
    expect(app.get<SqliteCallStore>(CALL_STORE).synchronousMode()).toBe(expected);
  });
});

const straceMissing = spawnSync('strace', ['-V']).status !== 0;
if (straceMissing) {
  console.warn('durability: strace is not installed; the fsync-before-answer tests are skipped');
}

/**
 * The service's system calls, watched with strace: with `full`, the event's commit is synced
 * (fsync of the WAL) after the delivery is read and before the 2xx is written, and the call's
 * record is synced before the control request leaves for OpenAI. With `normal`, neither is:
 * which shows the test can tell.
 */
(straceMissing ? describe.skip : describe)('a commit is synced before it is acted on', () => {
  let dir: string;
  let fake: FakeOpenAI;
  let service: ServiceProcess | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-fsync-'));
    fake = await FakeOpenAI.start();
  });
  afterEach(async () => {
    if (service && service.child.exitCode === null) {
      service.child.kill('SIGKILL');
      await service.exited;
    }
    service = undefined;
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * The service's system calls while `work` runs, on every thread: the log's fsync runs on
   * libuv's thread pool, while the event loop reads the delivery and writes the answer.
   */
  async function traced(pid: number, work: () => Promise<void>): Promise<string[]> {
    const file = join(dir, 'trace');
    const tracer = spawn('strace', [
      ...['-f', '-y', '-s', '1024', '-o', file, '-p', String(pid)],
      ...['-e', 'trace=read,recvfrom,write,writev,sendto,sendmsg,fsync,fdatasync'],
    ]);
    let said = '';
    tracer.stderr.on('data', (chunk: Buffer) => (said += chunk.toString()));
    const stopped = new Promise((resolve) => tracer.once('exit', resolve));
    const deadline = Date.now() + 10_000;
    while (!said.includes(`Process ${pid} attached`)) {
      if (tracer.exitCode !== null || Date.now() > deadline)
        throw new Error(`strace could not attach: ${said}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    try {
      await work();
    } finally {
      tracer.kill('SIGINT'); // detaches; the service goes on
      await stopped;
    }
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => /^\d+ /.test(line));
  }

  const at = (lines: string[], pattern: RegExp, from = 0) => {
    const index = lines.findIndex((line, i) => i >= from && pattern.test(line));
    if (index < 0) throw new Error(`no system call matching ${pattern}`);
    return index;
  };
  /**
   * The commit syncs of the log `file` that started after `from` and had returned before `to`:
   * the store's `fdatasync` of it, on the thread pool. SQLite's own `fsync`s are not counted:
   * a checkpoint's (on the checkpoint worker's thread), or the one of a new log header when the
   * log starts over, which SQLite makes at every durability level. A sync that another thread's
   * call interrupted in the trace is two lines: `fdatasync(fd</path> <unfinished ...>` and,
   * later, `<... fdatasync resumed>) = 0` from the same thread.
   */
  const syncsOf = (lines: string[], file: string, from: number, to: number) =>
    lines.slice(from, to).filter((line, offset) => {
      const sync = /^(\d+)\s+fdatasync\(/.exec(line);
      if (!sync || !line.includes(`/${file}>`)) return false;
      if (!line.includes('<unfinished')) return / = 0$/.test(line);
      const resumedLine = new RegExp(`^${sync[1]}\\s+<\\.\\.\\. fdatasync resumed>`);
      const resumed = lines.findIndex((later, i) => i > from + offset && resumedLine.test(later));
      return resumed > 0 && resumed < to && / = 0$/.test(lines[resumed]);
    });

  it.each([
    ['full', 1],
    ['normal', 0],
  ])('STORE_SYNCHRONOUS=%s', async (mode, expectedSyncs) => {
    service = await startService({
      NODE_ENV: 'test',
      PORT: '0',
      DATA_DIR: dir,
      OPENAI_WEBHOOK_SECRET: TEST_SECRET,
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.baseURL,
      STORE_SYNCHRONOUS: mode,
    });
    const { port, child } = service;
    const plain = signDelivery(JSON.stringify(sampleEvent('batch.completed')));
    const call = ringingCall('rtc_durable');
    const lines = await traced(child.pid!, async () => {
      expect(await deliverTo(port, plain)).toBe(200);
      expect(await deliverTo(port, call)).toBe(200);
      await fake.waitForRequests(1, 10_000);
    });

    // The event: read, then synced, then acknowledged.
    const readPlain = at(
      lines,
      new RegExp(`read.*POST /webhooks/openai.*${plain.headers['webhook-id']}`),
    );
    const ackPlain = at(lines, /write.*HTTP\/1\.1 200/, readPlain);
    expect({
      synced: syncsOf(lines, 'switchboard.db-wal', readPlain, ackPlain).length >= 1,
      calls: lines.slice(readPlain, ackPlain + 1).map((line) => line.slice(0, 160)),
    }).toEqual({ synced: expectedSyncs === 1, calls: expect.any(Array) });

    // The call: its record synced before the accept request leaves for OpenAI.
    const readCall = at(
      lines,
      new RegExp(`read.*POST /webhooks/openai.*${call.headers['webhook-id']}`),
    );
    const control = at(lines, /(write|send).*POST \/v1\/realtime\/calls\/rtc_durable\//, readCall);
    expect({
      synced: syncsOf(lines, 'calls.db-wal', readCall, control).length >= 1,
      calls: lines.slice(readCall, control + 1).map((line) => line.slice(0, 160)),
    }).toEqual({ synced: expectedSyncs === 1, calls: expect.any(Array) });
  });
});

/**
 * Each SQLite store copies its log back on a worker thread: that thread must never keep a
 * process alive that has nothing else to do (a script, a test, a CLI using the library), and a
 * closed store must have let it go.
 */
describe("the stores' checkpoint threads", () => {
  const dist = join(__dirname, '..', 'dist', 'webhooks', 'store', 'sqlite-event-store.js');
  const script = (close: boolean) => `
    const { SqliteEventStore } = require(${JSON.stringify(dist)});
    const store = new SqliteEventStore({ filename: process.argv[1] });
    const event = { webhookId: 'w', eventId: 'e', type: 't', source: 'openai', payload: '{}', receivedAt: 1 };
    store.append(event, []).then(() => ${close ? "store.close().then(() => console.log('closed'))" : "console.log('appended')"});
  `;

  it.each([
    ['left open', false, 'appended'],
    ['closed', true, 'closed'],
  ])('a process with a store %s exits by itself', (_case, close, said) => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-exit-'));
    try {
      const run = spawnSync(process.execPath, ['-e', script(close), join(dir, 'x.db')], {
        timeout: 10_000,
        encoding: 'utf8',
      });
      expect({ status: run.status, signal: run.signal, said: run.stdout.trim() }).toEqual({
        status: 0,
        signal: null,
        said,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
