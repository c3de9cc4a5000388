import { Module } from '@nestjs/common';
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { EventStreamModule } from '../src/stream/event-stream.module';
import { EventStreamServer } from '../src/stream/event-stream.server';
import { SwitchboardEventPublisher } from '../src/webhooks/switchboard-event.publisher';
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
