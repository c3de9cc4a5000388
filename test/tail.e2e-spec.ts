import { Module } from '@nestjs/common';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallsModule } from '../src/calls/calls.module';
import { SqliteCallStore } from '../src/calls/store/sqlite-call-store';
import { EventStreamModule } from '../src/stream/event-stream.module';
import { EventStreamServer } from '../src/stream/event-stream.server';
import { SwitchboardEventPublisher } from '../src/webhooks/switchboard-event.publisher';
import { ringingCall } from './support/service-process';
import { createTestApp, eventually, TestApp } from './support/test-app';

const TAIL = join(__dirname, '..', 'scripts', 'tail.js');
const TOKEN = 'tail-token';

@Module({ imports: [EventStreamModule.forRoot({ adminToken: TOKEN })] })
class StreamModule {}

describe('npm run tail', () => {
  let t: TestApp;
  let child: ChildProcess | undefined;
  afterEach(async () => {
    child?.kill('SIGKILL');
    await t?.close();
  });

  it('prints the events of the chosen types, one line each', async () => {
    t = await createTestApp({ imports: [StreamModule], listen: true });
    let output = '';
    child = spawn(
      process.execPath,
      [
        TAIL,
        '--url',
        `ws://127.0.0.1:${t.port}/events`,
        '--token',
        TOKEN,
        '--types',
        'call.*',
        '--since',
        '0',
        '--once',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await eventually(() => expect(t.app.get(EventStreamServer).clientCount).toBe(1));
    // With --since 0 the events reach it whether they are stored before or after it subscribes.
    const publisher = t.app.get(SwitchboardEventPublisher);
    await publisher.publish('batch.completed', { id: 'batch_1' });
    await publisher.publish('call.routed', {
      call_id: 'rtc_42',
      rule: 'vip-support',
      action: { type: 'accept' },
    });
    await eventually(() =>
      expect(output).toMatch(
        /^#2 \d\d:\d\d:\d\d call\.routed rtc_42 rule=vip-support action=accept$/m,
      ),
    );
    expect(output).not.toContain('batch.completed');

    // The call after answer: each event's gist on its line.
    await publisher.publish('call.transcript', {
      call_id: 'rtc_42',
      surface: 'realtime',
      speaker: 'caller',
      text: 'Where is my order?',
    });
    await publisher.publish('call.tool_called', {
      call_id: 'rtc_42',
      surface: 'realtime',
      name: 'lookup_order',
      outcome: 'ok',
      duration_ms: 3,
    });
    await publisher.publish('call.ended', {
      call_id: 'rtc_42',
      surface: 'realtime',
      reason: 'caller_hung_up',
      inferred: true,
      duration_ms: 61_400,
    });
    await eventually(() =>
      expect(output).toMatch(/call\.ended rtc_42 caller_hung_up \(inferred\) after 61 s$/m),
    );
    expect(output).toMatch(/call\.transcript rtc_42 caller: "Where is my order\?"$/m);
    expect(output).toMatch(/call\.tool_called rtc_42 lookup_order ok 3 ms$/m);
  });

  it('says why when the token is refused', async () => {
    t = await createTestApp({ imports: [StreamModule], listen: true });
    child = spawn(
      process.execPath,
      [TAIL, '--url', `ws://127.0.0.1:${t.port}/events`, '--token', 'wrong'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let errors = '';
    child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child!.once('exit', resolve));
    expect(code).toBe(1);
    expect(errors).toContain('HTTP 401');
  });
});

describe('npm run tail, the first hour', () => {
  let t: TestApp | undefined;
  let child: ChildProcess | undefined;
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-tail-'));
  });
  afterEach(async () => {
    child?.kill('SIGKILL');
    await t?.close();
    t = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The tail with no token in its environment, as in a second terminal next to `npm start`. */
  function tail(args: string[]) {
    const { ADMIN_TOKEN: _a, STREAM_TOKEN: _s, ...rest } = process.env;
    const spawned = spawn(process.execPath, [TAIL, ...args], {
      env: { ...rest, DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    spawned.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    spawned.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child = spawned;
    return {
      output: () => output,
      exited: new Promise((resolve) => spawned.once('exit', resolve)),
    };
  }

  it('prints its usage for --help', async () => {
    const run = tail(['--help']);
    expect(await run.exited).toBe(0);
    expect(run.output()).toMatch(/^Usage: npm run tail/);
    expect(run.output()).toContain('--types');
    expect(run.output()).toContain(join(dataDir, 'dev-admin-token'));
  });

  it('says where a token comes from when there is none', async () => {
    const run = tail([]);
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain('no token: set ADMIN_TOKEN');
    expect(run.output()).toContain(join(dataDir, 'dev-admin-token'));
  });

  it("uses the development admin token npm start saved in DATA_DIR, and marks a dry run's call events", async () => {
    writeFileSync(join(dataDir, 'dev-admin-token'), `${TOKEN}\n`);
    t = await createTestApp({
      imports: [
        StreamModule,
        // No API key: decisions are made and recorded, not sent.
        CallsModule.forRoot({
          store: new SqliteCallStore(':memory:'),
          seedRulesFile: join(__dirname, '..', 'rules', 'example.yaml'),
        }),
      ],
      listen: true,
    });
    const run = tail(['--url', `ws://127.0.0.1:${t.port}/events`, '--types', 'call.*', '--once']);
    await eventually(() => expect(t!.app.get(EventStreamServer).clientCount).toBe(1));
    await t.deliver(ringingCall('rtc_dry')).expect(200);
    await eventually(() =>
      expect(run.output()).toMatch(/^#\d+ \d\d:\d\d:\d\d call\.accepted rtc_dry \(dry run\)$/m),
    );
    expect(run.output()).toMatch(/call\.routed rtc_dry rule=\S+ action=accept \(dry run\)$/m);
  });
});
